package controllers

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// staleReads serves an object as it was before the last write, as the
// manager's cache does for a moment after each status write.
type staleReads struct {
	client.Client
	stale client.Object
}

func (s staleReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if reflect.TypeOf(obj) == reflect.TypeOf(s.stale) && key == client.ObjectKeyFromObject(s.stale) {
		reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(s.stale.DeepCopyObject()).Elem())
		return nil
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

// missingNews is the IssueMissing Warnings the recorder holds.
func missingNews(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			if strings.Contains(e, cxv1.ReasonIssueMissing) {
				out = append(out, e)
			}
		default:
			return out
		}
	}
}

// TestAMissingIssueIsToldOnce: an issue deleted on GitHub is told in one
// Warning, also when the next reconcile reads the phase from before the
// write that recorded it (the manager's cache a moment after a write):
// that run's write is refused, it says nothing, and it looks again soon.
func TestAMissingIssueIsToldOnce(t *testing.T) {
	ctx := context.Background()
	gh, cl, cj, ph := halfDoneImprove(t)
	ph.Spec.ExitCriteria.ClosedPercent = ptr.To[int32](100)
	clk := clocktesting.NewFakeClock(stepNow)
	r, c := phaseReconcilerOn(clk, cl, cj, ph)
	rec := r.Recorder.(*events.FakeRecorder)
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ph)}
	var got cxv1.ImprovementPhase
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	var gone *cxv1.PhaseItem
	for i, it := range got.Status.Items {
		if it.State == cxv1.ItemOpen {
			gone = &got.Status.Items[i]
		}
	}
	if gone == nil {
		t.Fatalf("no item opened: %+v", got.Status.Items)
	}
	if err := gh.DeleteIssue(ghOwner, ghRepo, int(gone.Issue)); err != nil {
		t.Fatal(err)
	}
	// GitHub's webhook says so.
	hook := &IssueWebhook{Client: c}
	if err := hook.recordVanished(ctx, client.ObjectKeyFromObject(cj), vanishedIssue{Key: "ns/shop/" + gone.Key, Number: int(gone.Issue), Repo: ghOwner + "/" + ghRepo, What: "deleted on GitHub"}); err != nil {
		t.Fatal(err)
	}
	stale := got.DeepCopy()
	missingNews(rec)

	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if news := missingNews(rec); len(news) != 1 || !strings.Contains(news[0], "is gone from the repository") {
		t.Fatalf("Warnings %q, want one that the issue is gone", news)
	}

	// The next run reads the phase from before that write.
	r.Client, r.APIReader = staleReads{Client: c, stale: stale}, c
	res, err := r.Reconcile(ctx, req)
	if err != nil {
		t.Fatalf("a run on a stale copy: %v, want it to look again without an error", err)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > time.Second {
		t.Errorf("a run on a stale copy: %+v, want it to look again soon", res)
	}
	if news := missingNews(rec); len(news) != 0 {
		t.Errorf("a run on a stale copy told again: %q", news)
	}
	r.Client = c
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if news := missingNews(rec); len(news) != 0 {
		t.Errorf("the next run told again: %q", news)
	}
	if err := c.Get(ctx, req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	for _, it := range got.Status.Items {
		if it.Key == gone.Key && !strings.Contains(it.Message, "is gone from the repository") {
			t.Errorf("item %+v, want its message to say the issue is gone", it)
		}
	}
}

// TestJourneyNewsIsToldOnce: a journey's news (here, its map scored) is
// told once, also when the next reconcile reads the journey from before
// the write that recorded it. A journey whose metadata alone moved since
// it was read (a webhook delivery's annotation) is not stale: its status
// is written all the same.
func TestJourneyNewsIsToldOnce(t *testing.T) {
	ctx := context.Background()
	cj := stepJourney(t)
	rig := newJourneyStepRig(t, clocktesting.NewFakeClock(stepNow), cj)
	rig.r.APIReader = rig.c
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cj)}
	var before cxv1.CustomerJourney
	if err := rig.c.Get(ctx, req.NamespacedName, &before); err != nil {
		t.Fatal(err)
	}
	// A delivery is recorded after the cache's copy was read.
	delivery := before.DeepCopy()
	delivery.Annotations = map[string]string{AnnotationGitHubDelivery: "d-1"}
	if err := rig.c.Patch(ctx, delivery, client.MergeFrom(&before)); err != nil {
		t.Fatal(err)
	}
	rig.r.Client = staleReads{Client: rig.c, stale: &before}
	if _, err := rig.r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if evs := rig.events(); len(evs) != 1 || !strings.Contains(evs[0], "Normal MapScored") {
		t.Fatalf("events %q, want the map scored", evs)
	}
	var got cxv1.CustomerJourney
	if err := rig.c.Get(ctx, req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.HealthScore == nil || got.Annotations[AnnotationGitHubDelivery] != "d-1" {
		t.Fatalf("status %+v, annotations %v: want the score written beside the delivery", got.Status, got.Annotations)
	}

	// The next run still reads that copy: its status is stale now.
	res, err := rig.r.Reconcile(ctx, req)
	if err != nil {
		t.Fatalf("a run on a stale copy: %v, want it to look again without an error", err)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > time.Second {
		t.Errorf("a run on a stale copy: %+v, want it to look again soon", res)
	}
	if evs := rig.events(); len(evs) != 0 {
		t.Errorf("a run on a stale copy told again: %q", evs)
	}
	rig.r.Client = rig.c
	if _, err := rig.r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if evs := rig.events(); len(evs) != 0 {
		t.Errorf("the next run told again: %q", evs)
	}
}

// TestTheScoreIsToldBesideAnOpenedReview: a journey's first reconcile
// scores its map and opens its due review. The review's attempt writes the
// status, score and all, before the run's last write: the score's news is
// told with that write, not lost because the last write finds it written.
func TestTheScoreIsToldBesideAnOpenedReview(t *testing.T) {
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Hour).Add(10 * time.Minute)
	gh := githubServer(t)
	rig, cj := trackedRig(t, clocktesting.NewFakeClock(at), gh, hourlyReviews(at, 3600))
	rig.r.APIReader = rig.c
	if _, err := rig.r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cj)}); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range rig.events() {
		reasons = append(reasons, strings.Fields(e)[1])
	}
	slices.Sort(reasons)
	if want := []string{cxv1.ReasonMapScored, cxv1.ReasonReviewOpened}; !slices.Equal(reasons, want) {
		t.Errorf("events %v, want %v", reasons, want)
	}
}
