package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/tracker"
)

// IssueWebhook routes verified GitHub issue events to the journeys tracked
// in the event's repository, whose phases then sync at once.
type IssueWebhook struct {
	// Reader lists journeys (the manager's cache).
	Reader client.Reader
	// ForPhases and ForJourneys receive one event per journey to sync: the
	// phase controller syncs the journey's phases, the journey controller its
	// reviews and dashboard. Buffered: when full, the next poll catches up.
	ForPhases   chan event.GenericEvent
	ForJourneys chan event.GenericEvent
	IssueEvents *IssueEvents
}

// NewIssueWebhook makes the webhook router with a buffered channel.
func NewIssueWebhook(r client.Reader, seen *IssueEvents) *IssueWebhook {
	return &IssueWebhook{Reader: r, ForPhases: make(chan event.GenericEvent, 1024), ForJourneys: make(chan event.GenericEvent, 1024), IssueEvents: seen}
}

// OnIssue handles one verified `issues` event.
func (w *IssueWebhook) OnIssue(e ghwebhook.IssueEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log := logf.FromContext(ctx).WithValues("repository", e.Owner+"/"+e.Repo, "issue", e.Number, "action", e.Action)
	if key := tracker.KeyFromBody(e.Body); key != "" {
		switch e.Action {
		case "deleted":
			w.IssueEvents.Record(key, "deleted on GitHub")
		case "transferred":
			w.IssueEvents.Record(key, fmt.Sprintf("transferred on GitHub to %s/%s#%d", e.NewOwner, e.NewRepo, e.NewNumber))
		}
	}
	var list cxv1.CustomerJourneyList
	if err := w.Reader.List(ctx, &list); err != nil {
		log.Error(err, "listing journeys for a webhook")
		return
	}
	for i := range list.Items {
		cj := &list.Items[i]
		gh := cj.Spec.Tracker
		if gh == nil || gh.GitHub == nil || !strings.EqualFold(gh.GitHub.Owner, e.Owner) || !strings.EqualFold(gh.GitHub.Repo, e.Repo) {
			continue
		}
		for _, ch := range []chan event.GenericEvent{w.ForPhases, w.ForJourneys} {
			select {
			case ch <- event.GenericEvent{Object: cj}:
			default:
				log.Info("webhook queue full; the next poll picks the change up")
			}
		}
	}
}
