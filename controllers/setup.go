package controllers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/pageauth"
	"github.com/cxloop/cxloop/internal/statuspage"
	"github.com/cxloop/cxloop/internal/tracker"
)

// Options configure the whole of cxloop in a manager.
type Options struct {
	// GitHubWebhookAddr is where GitHub's issue webhooks are received
	// (path /github/webhook); "" turns the endpoint off.
	GitHubWebhookAddr string
	// GitHubWebhookSecrets returns the webhook secrets, current first, from
	// memory (WatchWebhookSecret, FileWebhookSecrets); deliveries are
	// refused while it returns none.
	GitHubWebhookSecrets func() [][]byte
	// StatusPageAddr is where leadership's read-only status page is served;
	// "" turns it off.
	StatusPageAddr string
	// StatusPageAuth is who may read the status page and what they see.
	StatusPageAuth StatusPageAuth
	// HTTPClient is the base HTTP client for GitHub (optional).
	HTTPClient *http.Client
	// Clock is the time source; the real clock when nil.
	Clock clock.Clock
	// CreateGrace: see ImprovementPhaseReconciler.CreateGrace.
	CreateGrace time.Duration
	// WritesPerMinute and WritesPerHour are each GitHub token's write
	// budget (0: GitHub's documented content limits, 60 and 500 with margin).
	WritesPerMinute, WritesPerHour int
	// Controller tunes the controllers (concurrency, name validation in
	// tests). MaxConcurrentReconciles defaults to DefaultWorkers.
	Controller controller.Options
	// Metrics reads the touchpoints' measures (Prometheus); nil reads none.
	Metrics metricsource.Source
	// GitHubAllowedHosts are the GitHub API hosts (host[:port]) journeys'
	// credentials may be sent to; empty means api.github.com.
	GitHubAllowedHosts []string
	// BudgetNamespace is where each GitHub token's write budget and
	// announced waits are kept across restarts and failovers (Leases
	// cxloop-github-budget-*, see LeaseBudgetStore); "" keeps them in
	// memory only.
	BudgetNamespace string
	// LeaderElection and LeaderElectionNamespace say whether the manager
	// elects a leader and where its Lease is: then each create is sent only
	// while the Lease is still this replica's.
	LeaderElection          bool
	LeaderElectionNamespace string
	// LeaderElectionID names the leader election Lease; LeaderElectionID
	// when empty. Each shard has its own (--leader-election-id).
	LeaderElectionID string
	// WatchLabelSelector is the shard's selector of journeys
	// (--watch-label-selector, applied to the cache with WatchLabelSelector);
	// nil for a manager that reconciles every journey.
	WatchLabelSelector labels.Selector
}

// DefaultWorkers is how many objects of a kind are reconciled at once.
// A reconcile mostly waits: on the API server, and on GitHub for a phase.
// make bench measures it.
const DefaultWorkers = 4

// WebhookPath is the path of the GitHub webhook endpoint.
const WebhookPath = "/github/webhook"

// Setup adds cxloop's indexes, reconcilers and servers to a manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Controller.MaxConcurrentReconciles == 0 {
		o.Controller.MaxConcurrentReconciles = DefaultWorkers
	}
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	if o.BudgetNamespace != "" {
		tracker.UseBudgetStore(&LeaseBudgetStore{Reader: mgr.GetAPIReader(), Writer: mgr.GetClient(), Namespace: o.BudgetNamespace, Now: o.Clock.Now})
	}
	var leader *leaderLease
	if o.LeaderElection && o.LeaderElectionNamespace != "" {
		id := o.LeaderElectionID
		if id == "" {
			id = LeaderElectionID
		}
		leader = &leaderLease{reader: mgr.GetAPIReader(), key: types.NamespacedName{Namespace: o.LeaderElectionNamespace, Name: id}}
		if err := mgr.Add(leader); err != nil {
			return err
		}
	}
	var shard *Shard
	if o.WatchLabelSelector != nil {
		shard = &Shard{Selector: o.WatchLabelSelector, Cache: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	}
	trackers := &Trackers{Reader: mgr.GetClient(), APIReader: mgr.GetAPIReader(), AllowedHosts: o.GitHubAllowedHosts, HTTPClient: o.HTTPClient, Now: o.Clock.Now, WritesPerMinute: o.WritesPerMinute, WritesPerHour: o.WritesPerHour}
	recorder := redactingRecorder{mgr.GetEventRecorder("cxloop")}
	var wakeups *Wakeups
	if o.GitHubWebhookAddr != "" {
		wakeups = NewWakeups(mgr.Elected())
	}
	if err := (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Trackers: trackers, CreateGrace: o.CreateGrace, Metrics: o.Metrics, Wakeups: wakeups, Shard: shard, leader: leader}).SetupWithManager(mgr, o.Controller); err != nil {
		return err
	}
	if err := (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Trackers: trackers, CreateGrace: o.CreateGrace, Metrics: o.Metrics, Wakeups: wakeups, Shard: shard, leader: leader}).
		SetupWithManager(mgr, o.Controller); err != nil {
		return err
	}
	if o.GitHubWebhookAddr != "" {
		hook := &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Wakeups: wakeups}
		handler := &ghwebhook.Handler{Secrets: o.GitHubWebhookSecrets, OnIssue: hook.OnIssue, OnRepository: hook.OnRepository}
		if err := addWebhookServer(mgr, o.GitHubWebhookAddr, handler); err != nil {
			return err
		}
	}
	if o.StatusPageAddr != "" {
		page, err := StatusPage(mgr, o.StatusPageAuth, o.Clock.Now)
		if err != nil {
			return err
		}
		// The write timeout runs from the request's headers: up to 30s
		// waiting for a turn (statuspage.Options), the rest to send a page
		// of a thousand journeys (tens of megabytes, a tenth gzipped).
		if err := mgr.Add(&manager.Server{Name: "status-page", Server: &http.Server{Addr: o.StatusPageAddr, Handler: page,
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}}); err != nil {
			return err
		}
	}
	return nil
}

// StatusPageAuth configures who may read the status page and its JSON API
// (--status-page-auth and the flags after it).
type StatusPageAuth struct {
	// Mode: token, proxy or none; "" is none.
	Mode pageauth.Mode
	// ProxyUserHeader and ProxyGroupsHeader name the proxy's identity
	// headers (X-Forwarded-User, X-Forwarded-Groups when empty);
	// ProxyTrusted are the proxy's addresses, required in proxy mode.
	ProxyUserHeader, ProxyGroupsHeader string
	ProxyTrusted                       []netip.Prefix
}

// The status page asks the API server who a reader is and what they may see.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// StatusPage is the status page's handler, reading from the manager's cache
// and asking the API server who may see what.
func StatusPage(mgr ctrl.Manager, a StatusPageAuth, now func() time.Time) (http.Handler, error) {
	log := mgr.GetLogger().WithName("status-page")
	var gate pageauth.Gate
	switch a.Mode {
	case "", pageauth.ModeNone:
		// At error level, so that it shows whatever the log level.
		log.Error(nil, "WARNING: the status page and its JSON API have no authentication (--status-page-auth=none): "+
			"every namespace's journeys are visible to anyone who reaches the port. Use token or proxy outside a demo.")
		gate = pageauth.Open{}
	case pageauth.ModeToken:
		gate = pageauth.Kubernetes{Authenticator: &pageauth.TokenReviewer{Client: mgr.GetClient()}, AccessReviewer: &pageauth.AccessReviewer{Client: mgr.GetClient()}}
	case pageauth.ModeProxy:
		if len(a.ProxyTrusted) == 0 {
			return nil, errors.New("--status-page-proxy-trusted-cidrs: proxy mode needs the authenticating proxy's addresses")
		}
		p := &pageauth.ProxyHeaders{UserHeader: a.ProxyUserHeader, GroupsHeader: a.ProxyGroupsHeader, Trusted: a.ProxyTrusted}
		if p.UserHeader == "" {
			p.UserHeader = "X-Forwarded-User"
		}
		if p.GroupsHeader == "" {
			p.GroupsHeader = "X-Forwarded-Groups"
		}
		gate = pageauth.Kubernetes{Authenticator: p, AccessReviewer: &pageauth.AccessReviewer{Client: mgr.GetClient()}}
	default:
		return nil, fmt.Errorf("--status-page-auth: %q is not one of token, proxy, none", a.Mode)
	}
	return statuspage.New(cacheSource{mgr.GetClient()}, statuspage.Options{Now: now, Gate: gate,
		Logger: slog.New(logr.ToSlogHandler(log))}), nil
}

// addWebhookServer serves GitHub's deliveries at addr on every replica: the
// leader acts on them at once, the others record them on the journey for
// it (see IssueWebhook). The server's timeouts are sized for GitHub
// (ghwebhook.NewServer).
func addWebhookServer(mgr manager.Manager, addr string, h *ghwebhook.Handler) error {
	mux := http.NewServeMux()
	mux.Handle(WebhookPath, h)
	return mgr.Add(&manager.Server{Name: "github-webhook", OnlyServeWhenLeader: false, Server: ghwebhook.NewServer(addr, mux)})
}

// cacheSource serves the status page from the manager's cache, without
// copying: the page only reads the objects, and keeps them no longer than
// its views of them.
type cacheSource struct{ c client.Reader }

func (s cacheSource) Journeys(ctx context.Context) ([]cxv1.CustomerJourney, error) {
	var l cxv1.CustomerJourneyList
	err := s.c.List(ctx, &l, client.UnsafeDisableDeepCopy)
	return l.Items, err
}

func (s cacheSource) Phases(ctx context.Context) ([]cxv1.ImprovementPhase, error) {
	var l cxv1.ImprovementPhaseList
	err := s.c.List(ctx, &l, client.UnsafeDisableDeepCopy)
	return l.Items, err
}

// withCappedRetries bounds the workqueue's backoff after errors of the API
// server: controller-runtime's default grows to about 16 minutes, longer
// than any sync interval users expect. GitHub's failures do not reach the
// workqueue; each reconciler backs off from them on its own.
func withCappedRetries(o controller.Options) controller.Options {
	if o.RateLimiter == nil {
		o.RateLimiter = workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](10*time.Millisecond, time.Minute),
			&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(50), 300)},
		)
	}
	return o
}
