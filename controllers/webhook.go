package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/tracker"
)

// Annotations by which a GitHub webhook delivery reaches the leader.
const (
	// AnnotationGitHubDelivery holds the ID of the latest GitHub delivery
	// about the journey's repository. Its change wakes the journey and its
	// phases on the leader.
	AnnotationGitHubDelivery = "cx.cxloop.dev/github-delivery"
	// AnnotationVanishedIssues holds what GitHub's webhooks said about the
	// journey's issues that polling cannot tell apart (deleted or
	// transferred): a JSON list of {"key", "what"}, newest last, bounded.
	AnnotationVanishedIssues = "cx.cxloop.dev/vanished-issues"

	maxVanishedIssues = 50
)

// IssueWebhook records verified GitHub issue events on the journeys tracked
// in the event's repository.
//
// Why on the object: every replica serves the webhook endpoint (GitHub does
// not redeliver a failed delivery on its own, so the Service must be able
// to route to any replica), but only the leader's controllers act. The
// receiving replica writes the delivery onto the journey; the leader's
// watch sees the change within milliseconds and syncs the journey and its
// phases. The record survives a leader crash between delivery and sync,
// which an in-memory hand-over would not, and needs no routing to the
// leader (readiness that follows leadership would also make the non-leaders
// unready for rollouts and PodDisruptionBudgets).
type IssueWebhook struct {
	// Client reads journeys (the manager's cache) and patches their annotations.
	Client client.Client
	// APIReader reads a journey fresh before an optimistic write (optional;
	// the Client's cache otherwise).
	APIReader client.Reader
}

// OnIssue records one verified `issues` event; an error makes the delivery
// fail on GitHub's side, where it can be redelivered.
func (w *IssueWebhook) OnIssue(ctx context.Context, e ghwebhook.IssueEvent) error {
	log := logf.FromContext(ctx).WithValues("repository", e.Owner+"/"+e.Repo, "issue", e.Number, "action", e.Action, "delivery", e.Delivery)
	if e.Action == "opened" {
		// cxloop opens the issues it tracks and records them as it does; an
		// issue it could not see open (a lost answer) is adopted by the
		// next sync after CreateGrace. Recording "opened" would cost an API
		// write and a sync of the journey and all its phases per issue,
		// ahead of the closes that do need them (make bench: during a ramp
		// of 400 issues, closes took 74s to show instead of seconds).
		return nil
	}
	vanished := ""
	key := tracker.KeyFromBody(e.Body)
	if key != "" {
		switch e.Action {
		case "deleted":
			vanished = "deleted on GitHub"
		case "transferred":
			vanished = fmt.Sprintf("transferred on GitHub to %s/%s#%d", e.NewOwner, e.NewRepo, e.NewNumber)
		}
	}
	var list cxv1.CustomerJourneyList
	if err := w.Client.List(ctx, &list, client.MatchingFields{githubRepoIndex: repoIndexKey(e.Owner, e.Repo)}); err != nil {
		return fmt.Errorf("listing journeys: %w", err)
	}
	for i := range list.Items {
		cj := &list.Items[i]
		gh := cj.Spec.Tracker
		if gh == nil || gh.GitHub == nil || !strings.EqualFold(gh.GitHub.Owner, e.Owner) || !strings.EqualFold(gh.GitHub.Repo, e.Repo) {
			continue
		}
		if err := w.record(ctx, client.ObjectKeyFromObject(cj), e.Delivery, key, vanished); err != nil {
			return fmt.Errorf("recording delivery on journey %s/%s: %w", cj.Namespace, cj.Name, err)
		}
		log.V(1).Info("recorded webhook delivery", "journey", cj.Name)
	}
	return nil
}

// record writes the delivery (and what vanished) onto one journey. The
// delivery ID is a wake-up call: a merge patch of that one annotation, with
// no resourceVersion, so that it never conflicts with the status writes
// going on meanwhile (the last delivery's ID wins, which is all the leader
// needs). What vanished is news that must not be lost: read fresh and
// written with optimistic locking, so that two replicas recording at once
// keep both.
func (w *IssueWebhook) record(ctx context.Context, key client.ObjectKey, delivery, issueKey, vanished string) error {
	if vanished != "" {
		if err := w.recordVanished(ctx, key, issueKey, vanished); err != nil {
			return err
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AnnotationGitHubDelivery: delivery}}})
	cj := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	return client.IgnoreNotFound(w.Client.Patch(ctx, cj, client.RawPatch(types.MergePatchType, patch)))
}

func (w *IssueWebhook) recordVanished(ctx context.Context, key client.ObjectKey, issueKey, vanished string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cj cxv1.CustomerJourney
		if err := w.reader().Get(ctx, key, &cj); err != nil {
			return client.IgnoreNotFound(err)
		}
		before := cj.DeepCopy()
		list := parseVanished(cj.GetAnnotations()[AnnotationVanishedIssues])
		out := make([]vanishedIssue, 0, len(list)+1)
		for _, v := range list {
			if v.Key != issueKey {
				out = append(out, v)
			}
		}
		out = append(out, vanishedIssue{Key: issueKey, What: vanished})
		if len(out) > maxVanishedIssues {
			out = out[len(out)-maxVanishedIssues:]
		}
		raw, _ := json.Marshal(out)
		ann := cj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationVanishedIssues] = string(raw)
		cj.SetAnnotations(ann)
		return w.Client.Patch(ctx, &cj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
}

func (w *IssueWebhook) reader() client.Reader {
	if w.APIReader != nil {
		return w.APIReader
	}
	return w.Client
}

type vanishedIssue struct {
	Key  string `json:"key"`
	What string `json:"what"`
}

func parseVanished(raw string) []vanishedIssue {
	var list []vanishedIssue
	if raw != "" && json.Unmarshal([]byte(raw), &list) != nil {
		return nil // edited by hand into something else: polling still sees the issues gone
	}
	return list
}

// vanishedIssues is what the webhooks said about the journey's issues that
// are gone from GitHub, by tracker key.
func vanishedIssues(cj *cxv1.CustomerJourney) map[string]string {
	list := parseVanished(cj.GetAnnotations()[AnnotationVanishedIssues])
	out := make(map[string]string, len(list))
	for _, v := range list {
		out[v.Key] = v.What
	}
	return out
}

// journeyChanged passes journey events that matter to cxloop's
// controllers: the map changed (a new generation) or a GitHub delivery was
// recorded on it.
var journeyChanged = predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return false
		}
		return e.ObjectOld.GetAnnotations()[AnnotationGitHubDelivery] != e.ObjectNew.GetAnnotations()[AnnotationGitHubDelivery]
	},
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
})
