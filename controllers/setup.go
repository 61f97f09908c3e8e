package controllers

import (
	"context"
	"net/http"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/statuspage"
)

// Options configure the whole of cxloop in a manager.
type Options struct {
	// GitHubWebhookAddr is where GitHub's issue webhooks are received
	// (path /github/webhook); "" turns the endpoint off.
	GitHubWebhookAddr string
	// GitHubWebhookSecret returns the webhook secret; deliveries are refused
	// while it returns none.
	GitHubWebhookSecret func() ([]byte, error)
	// StatusPageAddr is where leadership's read-only status page is served;
	// "" turns it off.
	StatusPageAddr string
	// HTTPClient is the base HTTP client for GitHub (optional).
	HTTPClient *http.Client
	// Clock is the time source; the real clock when nil.
	Clock clock.Clock
	// CreateGrace: see ImprovementPhaseReconciler.CreateGrace.
	CreateGrace time.Duration
}

// WebhookPath is the path of the GitHub webhook endpoint.
const WebhookPath = "/github/webhook"

// Setup adds cxloop's indexes, reconcilers and servers to a manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	trackers := &Trackers{Reader: mgr.GetAPIReader(), HTTPClient: o.HTTPClient, Now: o.Clock.Now}
	recorder := mgr.GetEventRecorder("cxloop")
	seen := &IssueEvents{}
	hook := NewIssueWebhook(mgr.GetClient(), seen)
	if err := (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Trackers: trackers}).SetupWithManager(mgr, hook.ForJourneys); err != nil {
		return err
	}
	if err := (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Trackers: trackers, IssueEvents: seen, CreateGrace: o.CreateGrace}).
		SetupWithManager(mgr, hook.ForPhases); err != nil {
		return err
	}
	if o.GitHubWebhookAddr != "" {
		mux := http.NewServeMux()
		mux.Handle(WebhookPath, &ghwebhook.Handler{Secret: o.GitHubWebhookSecret, OnIssue: hook.OnIssue})
		// Only the leader's controllers act on webhook events.
		if err := mgr.Add(&manager.Server{Name: "github-webhook", OnlyServeWhenLeader: true,
			Server: &http.Server{Addr: o.GitHubWebhookAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}}); err != nil {
			return err
		}
	}
	if o.StatusPageAddr != "" {
		page := statuspage.New(cacheSource{mgr.GetClient()}, statuspage.Options{Now: o.Clock.Now})
		if err := mgr.Add(&manager.Server{Name: "status-page", Server: &http.Server{Addr: o.StatusPageAddr, Handler: page, ReadHeaderTimeout: 10 * time.Second}}); err != nil {
			return err
		}
	}
	return nil
}

// cacheSource serves the status page from the manager's cache.
type cacheSource struct{ c client.Reader }

func (s cacheSource) Journeys(ctx context.Context) ([]cxv1.CustomerJourney, error) {
	var l cxv1.CustomerJourneyList
	err := s.c.List(ctx, &l)
	return l.Items, err
}

func (s cacheSource) Phases(ctx context.Context) ([]cxv1.ImprovementPhase, error) {
	var l cxv1.ImprovementPhaseList
	err := s.c.List(ctx, &l)
	return l.Items, err
}
