package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// Annotations by which a GitHub webhook delivery reaches the leader.
const (
	// AnnotationGitHubDelivery holds the ID of the latest GitHub delivery
	// about one of the journey's issues (or its repository). Its change
	// wakes the journey and its phases on the leader.
	AnnotationGitHubDelivery = "cx.cxloop.dev/github-delivery"
	// AnnotationVanishedIssues holds what GitHub's webhooks said about the
	// journey's issues that polling cannot tell apart (deleted or
	// transferred): a JSON list of {"key", "what"}, newest last, bounded.
	AnnotationVanishedIssues = "cx.cxloop.dev/vanished-issues"

	maxVanishedIssues = 50
)

// IssueWebhook records verified GitHub issue events on the journey whose
// issue they are, among those tracked in the event's repository.
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
//
// The leader itself need not write anything to wake its own controllers:
// with Wakeups set, a replica that leads hands the journey straight to
// them. A journey write costs the API server a fifth of a second at 140
// touchpoints (make bench), so recording every delivery made closes queue
// behind one another during a ramp. A wake-up lost in a crash costs at
// most one sync interval, since polling finds every change; what only a
// webhook can tell (an issue deleted or transferred) is always recorded.
type IssueWebhook struct {
	// Client reads journeys (the manager's cache) and patches their annotations.
	Client client.Client
	// APIReader reads a journey fresh before an optimistic write (optional;
	// the Client's cache otherwise).
	APIReader client.Reader
	// Wakeups wakes this replica's controllers while it leads (optional:
	// every delivery is recorded on the journey otherwise).
	Wakeups *Wakeups
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
		// of 400 issues, closes took 74s to show instead of seconds). It
		// does show that the repository's webhooks work.
		tracker.NoteDelivery(e.Owner, e.Repo, e.RepoID)
		return nil
	}
	// The key comes from the body, which anyone who may open an issue can
	// write; the record keeps the issue's number and repository, which only
	// GitHub sets, and counts only for the item whose issue they are.
	var gone *vanishedIssue
	key := tracker.KeyFromBody(e.Body)
	if key != "" {
		switch e.Action {
		case "deleted":
			gone = &vanishedIssue{Key: key, Number: e.Number, Repo: e.Owner + "/" + e.Repo, What: "deleted on GitHub"}
		case "transferred":
			gone = &vanishedIssue{Key: key, Number: e.Number, Repo: e.Owner + "/" + e.Repo,
				What: fmt.Sprintf("transferred on GitHub to %s/%s#%d", e.NewOwner, e.NewRepo, e.NewNumber)}
		}
	}
	// Whoever leads refreshes the repository's issue index at once.
	tracker.InvalidateRepository(e.Owner, e.Repo, e.RepoID)
	journeys, err := w.journeysOf(ctx, e)
	if err != nil {
		return err
	}
	for _, cj := range concerned(journeys, e, key) {
		if gone == nil && w.Wakeups.wake(cj) {
			log.V(1).Info("woke the journey's reconcilers", "journey", cj.Name)
			continue
		}
		if err := w.record(ctx, client.ObjectKeyFromObject(cj), e.Delivery, gone); err != nil {
			return fmt.Errorf("recording delivery on journey %s/%s: %w", cj.Namespace, cj.Name, err)
		}
		log.V(1).Info("recorded webhook delivery", "journey", cj.Name)
	}
	return nil
}

// OnRepository wakes the journeys of a repository that was renamed or
// transferred, found by its ID, so that they say so at once (and refresh
// the repository's issue index) rather than at their next sync.
func (w *IssueWebhook) OnRepository(ctx context.Context, e ghwebhook.RepositoryEvent) error {
	if e.Action != "renamed" && e.Action != "transferred" {
		return nil
	}
	return w.OnIssue(ctx, ghwebhook.IssueEvent{Action: "repository_" + e.Action, Owner: e.Owner, Repo: e.Repo, RepoID: e.RepoID, Delivery: e.Delivery})
}

// concerned narrows the journeys tracked in an event's repository to those
// the event is about. An issue's key marker names its journey
// (workitem.TrackerKey), so a delivery about one journey's issue syncs that
// journey and its phases alone, not every journey sharing the repository:
// with 200 journeys on one repository each close queued 1,000 syncs ahead
// of the next close (make bench -shared-repo: 2.3 s p99 to show a close),
// and on a replica that does not lead it cost 200 journey writes.
//
// An issue without a marker, or whose marker names no journey tracked
// here, is none of cxloop's (or its body was edited by hand): the
// repository's index is refreshed, and the next sync sees what changed,
// but no journey is woken for it. A busy repository's other issues cost
// nothing per journey, and a made-up marker wakes one journey at most. A
// repository event concerns them all, and so does a key shortened to a
// digest (workitem.TrackerKey shortens keys over 200 characters: long
// journey, stage, touchpoint or persona names) on an issue that carries
// cxloop's label: anyone who may open an issue can write a marker in its
// body, but only those who may triage the repository can label it.
func concerned(journeys []*cxv1.CustomerJourney, e ghwebhook.IssueEvent, key string) []*cxv1.CustomerJourney {
	if e.Number == 0 {
		return journeys
	}
	if workitem.IsDigestKey(key) {
		// GitHub's labels are matched without regard to case, as the
		// tracker matches them.
		if slices.ContainsFunc(e.Labels, func(l string) bool { return strings.EqualFold(l, tracker.DefaultLabel) }) {
			return journeys
		}
		return nil
	}
	if key == "" {
		return nil
	}
	for _, cj := range journeys {
		if strings.HasPrefix(key, workitem.JourneyPrefix(cj.Namespace, cj.Name)) {
			return []*cxv1.CustomerJourney{cj}
		}
	}
	return nil
}

// journeysOf finds the journeys tracked in the event's repository: by
// GitHub's repository ID, which the journeys record once they have
// connected and which survives a rename or transfer, and by the name in
// their spec (journeys that have not connected yet).
func (w *IssueWebhook) journeysOf(ctx context.Context, e ghwebhook.IssueEvent) ([]*cxv1.CustomerJourney, error) {
	keys := []string{repoIndexKey(e.Owner, e.Repo)}
	if e.RepoID > 0 {
		keys = append(keys, repoIDIndexKey(e.RepoID))
	}
	seen := map[client.ObjectKey]bool{}
	var out []*cxv1.CustomerJourney
	for _, k := range keys {
		// Read only, and only their names and repository: the cache's own
		// objects, not a copy of every map of the repository per delivery
		// (BenchmarkWebhookDelivery: 3.7 MB with 50 journeys).
		var list cxv1.CustomerJourneyList
		if err := w.Client.List(ctx, &list, client.MatchingFields{githubRepoIndex: k}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing journeys: %w", err)
		}
		for i := range list.Items {
			cj := &list.Items[i]
			if r := cj.Status.GitHubRepository; r != nil && e.RepoID > 0 && r.ID != e.RepoID {
				continue // another repository that had this name before
			}
			if key := client.ObjectKeyFromObject(cj); !seen[key] {
				seen[key] = true
				out = append(out, cj)
			}
		}
	}
	return out, nil
}

// record writes the delivery (and what vanished) onto one journey. The
// delivery ID is a wake-up call: a merge patch of that one annotation, with
// no resourceVersion, so that it never fails for the status writes going
// on meanwhile (the last delivery's ID wins, which is all the leader
// needs). It does move the journey's resourceVersion, so the attempt
// writes guarded by it (ensureJourneyIssue) conflict and look again, and a
// status write guarded by it finds the status unmoved and is made again
// (patchStatus). What vanished is news that must not be lost: read fresh and
// written with optimistic locking, so that two replicas recording at once
// keep both.
func (w *IssueWebhook) record(ctx context.Context, key client.ObjectKey, delivery string, gone *vanishedIssue) error {
	if gone != nil {
		if err := w.recordVanished(ctx, key, *gone); err != nil {
			return err
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AnnotationGitHubDelivery: delivery}}})
	cj := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	return client.IgnoreNotFound(w.Client.Patch(ctx, cj, client.RawPatch(types.MergePatchType, patch)))
}

func (w *IssueWebhook) recordVanished(ctx context.Context, key client.ObjectKey, gone vanishedIssue) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cj cxv1.CustomerJourney
		if err := w.reader().Get(ctx, key, &cj); err != nil {
			return client.IgnoreNotFound(err)
		}
		before := cj.DeepCopy()
		list := parseVanished(cj.GetAnnotations()[AnnotationVanishedIssues])
		out := make([]vanishedIssue, 0, len(list)+1)
		for _, v := range list {
			if v.Key != gone.Key || v.Number != gone.Number || !strings.EqualFold(v.Repo, gone.Repo) {
				out = append(out, v)
			}
		}
		out = append(out, gone)
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

// vanishedIssue is what a webhook said about one issue that left the
// repository: its cxloop key (from the body), and its number and
// repository (GitHub's own facts).
type vanishedIssue struct {
	Key    string `json:"key"`
	Number int    `json:"number,omitempty"`
	Repo   string `json:"repo,omitempty"` // owner/name
	What   string `json:"what"`
}

func parseVanished(raw string) []vanishedIssue {
	var list []vanishedIssue
	if raw != "" && json.Unmarshal([]byte(raw), &list) != nil {
		return nil // edited by hand into something else: polling still sees the issues gone
	}
	return list
}

// vanishedIssues is what the webhooks said about the journey's issues that
// are gone from GitHub, by vanishedKey: only records of the journey's own
// repository count, and an item only heeds the record of its own issue
// number, so that an issue that merely copies an item's marker (anyone
// can open one on a public repository) cannot make it Obsolete.
func vanishedIssues(cj *cxv1.CustomerJourney) map[string]string {
	list := parseVanished(cj.GetAnnotations()[AnnotationVanishedIssues])
	out := make(map[string]string, len(list))
	var repo string
	if t := cj.Spec.Tracker; t != nil && t.GitHub != nil {
		repo = t.GitHub.Owner + "/" + t.GitHub.Repo
	}
	// A renamed or transferred repository's deliveries name it as GitHub
	// does now.
	var current string
	if r := cj.Status.GitHubRepository; r != nil {
		current = r.FullName
	}
	for _, v := range list {
		if v.Number <= 0 || !(strings.EqualFold(v.Repo, repo) || (current != "" && strings.EqualFold(v.Repo, current))) {
			continue // recorded before numbers were kept, or another repository's
		}
		out[vanishedKey(v.Key, int64(v.Number))] = v.What
	}
	return out
}

// vanishedKey identifies a vanished issue: its tracker key and number.
func vanishedKey(key string, number int64) string { return plan.VanishedKey(key, number) }

// Wakeups hands webhook deliveries to the controllers of the replica that
// received them, while that replica leads: no API write on the way.
type Wakeups struct {
	elected  <-chan struct{}
	journeys chan event.GenericEvent
	phases   chan event.GenericEvent
}

// wakeupBuffer bounds the deliveries waiting for the controllers to take
// them; beyond it a delivery is recorded on the journey instead.
const wakeupBuffer = 1024

// NewWakeups wakes controllers once elected is closed (the manager's
// Elected()).
func NewWakeups(elected <-chan struct{}) *Wakeups {
	return &Wakeups{elected: elected, journeys: make(chan event.GenericEvent, wakeupBuffer), phases: make(chan event.GenericEvent, wakeupBuffer)}
}

// wake hands cj to the journey and phase controllers; false when this
// replica does not lead or they are too far behind, and the delivery must
// be recorded on the journey for whoever leads.
func (w *Wakeups) wake(cj *cxv1.CustomerJourney) bool {
	if w == nil {
		return false
	}
	select {
	case <-w.elected:
	default:
		return false
	}
	if len(w.journeys) >= cap(w.journeys)/2 || len(w.phases) >= cap(w.phases)/2 {
		return false
	}
	// The journey alone identifies what to sync; no need to copy the map.
	o := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace, Name: cj.Name}}
	select {
	case w.journeys <- event.GenericEvent{Object: o}:
	default:
		return false
	}
	select {
	case w.phases <- event.GenericEvent{Object: o}:
		return true
	default:
		return false // the journey woke; the record wakes the phases
	}
}

// source of the wake-ups for one controller, enqueued ahead of routine
// syncs (above controller-runtime's default priority, 0), so that they run
// before phases waiting for their write budget or polling: a person just
// changed an issue and is looking at the status.
func (w *Wakeups) source(ch chan event.GenericEvent, toRequests handler.MapFunc) source.Source {
	return source.Channel(ch, handler.Funcs{
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			reqs := toRequests(ctx, e.Object)
			if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
				pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(wakePriority)}, reqs...)
				return
			}
			for _, r := range reqs {
				q.Add(r)
			}
		},
	})
}

// wakePriority is the priority of a webhook's wake-up in the workqueue.
const wakePriority = 10

// routineRequeues makes every requeue of r a routine one: an object a
// webhook woke ahead of the others goes back to the ordinary priority for
// its next sync (controller-runtime would keep the priority it ran with).
func routineRequeues(r reconcile.Reconciler) reconcile.Reconciler {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		if res.Priority == nil {
			res.Priority = ptr.To(0)
		}
		return res, err
	})
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
