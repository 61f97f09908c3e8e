package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/google/go-github/v60/github"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// The parent issue of a phase that waits, and of one that completed: the
// paths of gateOnPreviousPhase and holdCompletedOrSuspended that reach
// GitHub, and the helpers they share with syncParent.

// requestsTo counts the local GitHub's requests whose path holds part.
func requestsTo(gh *localgithub.Server, part string) int {
	n := 0
	for _, r := range gh.Requests() {
		if strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

func TestParentWhileWaiting(t *testing.T) {
	var w *parentWorld
	var requestsBefore int
	journey := shopWithParents
	// The phase before: Active, with (or without) its parent issue.
	discovery := func(parent int64) *cxv1.ImprovementPhase {
		d := phaseNamed("discovery", "shop", "")
		d.Spec.Type = cxv1.PhaseDiscovery
		d.Status.State = cxv1.PhaseActive
		if parent != 0 {
			d.Status.Parent = &cxv1.PhaseParent{Issue: parent}
		}
		return d
	}
	waiting := func(edit func(ph *cxv1.ImprovementPhase)) func(ph *cxv1.ImprovementPhase) {
		return func(ph *cxv1.ImprovementPhase) {
			ph.Spec.After = "discovery"
			if edit != nil {
				edit(ph)
			}
		}
	}
	prepare := func(cj *cxv1.CustomerJourney) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.cj = cj
			run.pc = (&ImprovementPhaseReconciler{}).phaseContext(run.ph, cj)
			requestsBefore = len(w.gh.Requests())
		}
	}
	// w is made before the cases: discovery's parent must be a real issue.
	w = newParentWorld(t)
	discoveryParent := int64(w.numbers[2])
	trackers := oneTracker{w.tr}

	runPhaseStepCases(t, "gateOnPreviousPhase", []phaseStepCase{
		{name: "parents off: waits, sends nothing", edit: waiting(nil), objects: []client.Object{discovery(discoveryParent)},
			trackers: trackers, prepare: prepare(journey(false)), want: steps.Done(0), wantState: cxv1.PhasePending,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 || run.ph.Status.Parent != nil {
					t.Errorf("%d requests, parent %+v: nothing was asked for", n, run.ph.Status.Parent)
				}
			}},
		{name: "the earlier phase has no parent yet: opens its own, not blocked yet", edit: waiting(nil), objects: []client.Object{discovery(0)},
			trackers: trackers, prepare: prepare(journey(true)), want: steps.Done(0), wantState: cxv1.PhasePending,
			wantEvents: []string{cxv1.ReasonIssueOpened},
			check: func(t *testing.T, run *phaseRun) {
				p := run.ph.Status.Parent
				if p == nil || p.Issue == 0 || p.BlockedBy != 0 {
					t.Fatalf("status.parent %+v, want an issue, not blocked yet", p)
				}
				if n := requestsTo(w.gh, "/dependencies/"); n != 0 {
					t.Errorf("%d dependency requests with no blocker to name", n)
				}
			}},
		{name: "the earlier phase's parent exists: blocked by it", edit: waiting(func(ph *cxv1.ImprovementPhase) {
			ph.Status.Parent = &cxv1.PhaseParent{Issue: int64(w.numbers[1])} // opened while the earlier had none
		}), objects: []client.Object{discovery(discoveryParent)},
			trackers: trackers, prepare: prepare(journey(true)), want: steps.Done(0), wantState: cxv1.PhasePending,
			check: func(t *testing.T, run *phaseRun) {
				if got := run.ph.Status.Parent.BlockedBy; got != discoveryParent {
					t.Errorf("blockedBy %d, want #%d", got, discoveryParent)
				}
				if rel := w.relations(t, w.numbers[1]); len(rel.BlockedBy) != 1 || rel.BlockedBy[0] != int(discoveryParent) {
					t.Errorf("on GitHub #%d is blocked by %v", w.numbers[1], rel.BlockedBy)
				}
			}},
		{name: "all recorded: waiting costs no request", edit: waiting(func(ph *cxv1.ImprovementPhase) {
			ph.Status.Parent = &cxv1.PhaseParent{Issue: int64(w.numbers[1]), BlockedBy: discoveryParent}
		}), objects: []client.Object{discovery(discoveryParent)},
			trackers: trackers, prepare: prepare(journey(true)), want: steps.Done(0), wantState: cxv1.PhasePending,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 {
					t.Errorf("%d GitHub requests while only waiting", n)
				}
			}},
		{name: "its parent's attempt within its grace: waits, sends nothing, takes no turn of the budget", edit: waiting(func(ph *cxv1.ImprovementPhase) {
			at := metav1.NewTime(stepNow)
			ph.Status.Parent = &cxv1.PhaseParent{AttemptedAt: &at}
		}), objects: []client.Object{discovery(discoveryParent)},
			trackers: trackers, prepare: prepare(journey(true)), want: steps.Done(exactlyonce.GraceOf(0)), wantState: cxv1.PhasePending,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 {
					t.Errorf("%d GitHub requests while the parent's attempt may land", n)
				}
				if d := w.tr.WriteDelay("phase/ns/another"); d > 0 {
					t.Errorf("another phase waits %s: the write budget's turn was taken and left unused", d)
				}
			}},
		{name: "the tracker cannot be built: waits all the same", edit: waiting(nil), objects: []client.Object{discovery(discoveryParent)},
			trackers: errTrackers{errors.New("no credentials")}, prepare: prepare(journey(true)), want: steps.Done(0), wantState: cxv1.PhasePending,
			check: func(t *testing.T, run *phaseRun) {
				if run.ph.Status.Parent != nil {
					t.Errorf("a parent without a tracker: %+v", run.ph.Status.Parent)
				}
			}},
	})
}

func TestCompletedPhaseClosesItsParent(t *testing.T) {
	var w *parentWorld
	var requestsBefore int
	journey := shopWithParents
	completed := func(state cxv1.ParentIssueState) func(ph *cxv1.ImprovementPhase) {
		return func(ph *cxv1.ImprovementPhase) {
			w = newParentWorld(t)
			ph.Status.State = cxv1.PhaseCompleted
			ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/a", State: cxv1.ItemClosed, Issue: int64(w.numbers[0])}}
			ph.Status.Parent = &cxv1.PhaseParent{Issue: int64(w.numbers[2]), State: state}
		}
	}
	trackers := trackerOf(func() tracker.Tracker { return w.tr })
	prepare := func(run *phaseRun) { requestsBefore = len(w.gh.Requests()) }
	stateOf := func(t *testing.T, number int) string {
		for _, is := range w.gh.Issues(ghOwner, ghRepo) {
			if is.Number == number {
				return is.State
			}
		}
		t.Fatalf("no issue #%d", number)
		return ""
	}
	runPhaseStepCases(t, "holdCompletedOrSuspended", []phaseStepCase{
		{name: "closes the parent and links what was left", edit: completed(cxv1.ParentIssueOpen), objects: []client.Object{journey(true)},
			trackers: trackers, prepare: prepare, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				if run.ph.Status.Parent.State != cxv1.ParentIssueClosed || stateOf(t, w.numbers[2]) != "closed" {
					t.Errorf("the parent #%d is not closed (recorded %v)", w.numbers[2], run.ph.Status.Parent.State)
				}
				if it := run.ph.Status.Items[0]; it.SubIssueOf != int64(w.numbers[2]) {
					t.Errorf("the item left unlinked when the phase completed is not linked now: %+v", it)
				}
			}},
		{name: "closed and linked already: no request", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueClosed)(ph)
			ph.Status.Items[0].SubIssueOf = int64(w.numbers[2])
		}, objects: []client.Object{journey(true)},
			trackers: trackers, prepare: prepare, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 {
					t.Errorf("%d requests for a completed phase with nothing left to do", n)
				}
			}},
		{name: "GitHub fails the close: tried again later", edit: completed(cxv1.ParentIssueOpen), objects: []client.Object{journey(true)},
			trackers: trackers, want: steps.Done(time.Minute), wantState: cxv1.PhaseCompleted,
			prepare: func(run *phaseRun) {
				w.gh.Inject(localgithub.Fault{Method: http.MethodPatch, Path: "/repos/*/*/issues/*", Kind: localgithub.ServerError, Status: http.StatusBadGateway, Times: -1})
			},
			check: func(t *testing.T, run *phaseRun) {
				if run.ph.Status.Parent.State == cxv1.ParentIssueClosed {
					t.Errorf("recorded closed though GitHub failed")
				}
			}},
		{name: "the parent was deleted: lost, not tried again", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			ph.Status.Items[0].SubIssueOf = int64(w.numbers[2])
		}, objects: []client.Object{journey(true)}, trackers: trackers,
			prepare: func(run *phaseRun) {
				if err := w.gh.DeleteIssue(ghOwner, ghRepo, w.numbers[2]); err != nil {
					t.Fatal(err)
				}
			},
			want: steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonParentIssueLost},
			check: func(t *testing.T, run *phaseRun) {
				if p := run.ph.Status.Parent; p.State != cxv1.ParentIssueLost || run.githubErr != nil {
					t.Errorf("parent %+v, set aside %v: want lost, not closed, no failure", p, run.githubErr)
				}
			}},
		{name: "completed before its parent's turn: opens the parent, links and closes it", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			ph.Status.Parent = &cxv1.PhaseParent{State: cxv1.ParentIssuePending}
		}, objects: []client.Object{journey(true)},
			trackers: trackers, prepare: prepare, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			wantEvents: []string{cxv1.ReasonIssueOpened},
			check: func(t *testing.T, run *phaseRun) {
				parents := w.parents()
				if len(parents) != 1 {
					t.Fatalf("%d parent issues on GitHub, want 1", len(parents))
				}
				p := run.ph.Status.Parent
				if p.Issue != int64(parents[0].Number) || p.State != cxv1.ParentIssueClosed || parents[0].State != "closed" {
					t.Errorf("parent recorded %+v, on GitHub #%d %s: want it recorded, and closed", p, parents[0].Number, parents[0].State)
				}
				if it := run.ph.Status.Items[0]; it.SubIssueOf != p.Issue {
					t.Errorf("the phase's issue is not a sub-issue of its parent: %+v", it)
				}
			}},
		{name: "completed with its parent's attempt in flight: found, not opened twice", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			at := metav1.NewTime(stepNow.Add(-2 * time.Minute)) // past its grace: looked for before any create
			ph.Status.Parent = &cxv1.PhaseParent{AttemptedAt: &at}
		}, objects: []client.Object{journey(true)}, trackers: trackers, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			prepare: func(run *phaseRun) {
				// The attempt landed; its answer was lost: the issue is on
				// GitHub, and not in the tracker's view.
				createBehindTheTracker(t, w, "Improve: quick wins of shop", "The phase.\n\n"+tracker.KeyMarker(parentKey))
			},
			check: func(t *testing.T, run *phaseRun) {
				if parents := w.parents(); len(parents) != 1 || run.ph.Status.Parent.Issue != int64(parents[0].Number) || parents[0].State != "closed" {
					t.Errorf("parents on GitHub %+v, recorded %+v: want the one that landed, recorded and closed", parents, run.ph.Status.Parent)
				}
			}},
		{name: "completed with its parent's attempt within its grace: waits, opens nothing", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			at := metav1.NewTime(stepNow.Add(-10 * time.Second))
			ph.Status.Parent = &cxv1.PhaseParent{AttemptedAt: &at}
		}, objects: []client.Object{journey(true)}, trackers: trackers, prepare: prepare,
			want: steps.Done(exactlyonce.DefaultGrace - 10*time.Second), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				if len(w.parents()) != 0 || run.ph.Status.Parent.Issue != 0 {
					t.Errorf("parents on GitHub %+v, recorded %+v: want the attempt waited for", w.parents(), run.ph.Status.Parent)
				}
			}},
		{name: "completed with more issues than one reconcile links: the parent stays open until all are linked", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			ph.Status.Parent = &cxv1.PhaseParent{State: cxv1.ParentIssuePending}
			for i := range maxLinksPerReconcile + 2 {
				is, _, err := w.tr.EnsureIssue(context.Background(), tracker.IssueRequest{Key: fmt.Sprintf("ns/shop/painpoint/more-%d", i), Title: "More", Body: "Work."})
				if err != nil {
					t.Fatal(err)
				}
				ph.Status.Items = append(ph.Status.Items, cxv1.PhaseItem{Key: fmt.Sprintf("painpoint/more-%d", i), State: cxv1.ItemClosed, Issue: int64(is.Number)})
			}
		}, objects: []client.Object{journey(true)}, trackers: trackers,
			want: steps.Done(time.Millisecond), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonIssueOpened},
			check: func(t *testing.T, run *phaseRun) {
				parents := w.parents()
				if len(parents) != 1 || parents[0].State != "open" || run.ph.Status.Parent.State != cxv1.ParentIssueOpen {
					t.Fatalf("parents on GitHub %+v, recorded %+v: want one, open while links are left", parents, run.ph.Status.Parent)
				}
				linked := 0
				for _, it := range run.ph.Status.Items {
					if it.SubIssueOf == run.ph.Status.Parent.Issue {
						linked++
					}
				}
				if linked != maxLinksPerReconcile || !linksLeft(run.ph) {
					t.Errorf("%d of %d issues linked, want %d in one reconcile and the rest left", linked, len(run.ph.Status.Items), maxLinksPerReconcile)
				}
			}},
		{name: "completed before the journey asked for parents: none opened", edit: func(ph *cxv1.ImprovementPhase) {
			completed(cxv1.ParentIssueOpen)(ph)
			ph.Status.Parent = nil
		}, objects: []client.Object{journey(true)}, trackers: trackers, prepare: prepare, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 || len(w.parents()) != 0 || run.ph.Status.Parent != nil {
					t.Errorf("%d requests, parents %+v, recorded %+v: want none", n, w.parents(), run.ph.Status.Parent)
				}
			}},
		{name: "the journey is gone: nothing to do", edit: completed(cxv1.ParentIssueOpen), trackers: trackers, prepare: prepare,
			want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.gh.Requests()) - requestsBefore; n != 0 {
					t.Errorf("%d requests without a journey", n)
				}
			}},
	})
}

// shopWithParents is the shop journey on the local GitHub, with or without
// parent issues.
func shopWithParents(parents bool) *cxv1.CustomerJourney {
	cj := shopJourney()
	cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{Owner: ghOwner, Repo: ghRepo, ParentIssues: &parents}}
	return cj
}

// trackerOf is a TrackerSource whose tracker is made when asked (the cases
// make their world in edit, after the source is built).
type trackerOf func() tracker.Tracker

func (f trackerOf) For(context.Context, *cxv1.CustomerJourney) (tracker.Tracker, error) {
	return f(), nil
}

// typesCounter is an issueRelations that counts IssueTypes calls.
type typesCounter struct {
	issueRelations
	calls int
	types []tracker.IssueType
	err   error
}

func (c *typesCounter) IssueTypes(context.Context) ([]tracker.IssueType, error) {
	c.calls++
	return c.types, c.err
}

func TestIssueTypeCacheAsksOncePerJourneyAWhile(t *testing.T) {
	ctx := context.Background()
	var cache issueTypeCache
	shop, museum := client.ObjectKey{Namespace: "ns", Name: "shop"}, client.ObjectKey{Namespace: "ns", Name: "museum"}
	rel := &typesCounter{types: []tracker.IssueType{{ID: 1, Name: "Feature"}}}
	tr1, tr2 := &tracker.Client{}, &tracker.Client{}
	now := stepNow

	for range 3 {
		if got, err := cache.get(ctx, shop, tr1, rel, now); err != nil || len(got) != 1 {
			t.Fatalf("get: %v, %v", got, err)
		}
	}
	if rel.calls != 1 {
		t.Errorf("%d listings for three reconciles of one journey, want 1", rel.calls)
	}
	_, _ = cache.get(ctx, museum, tr1, rel, now)
	_, _ = cache.get(ctx, shop, tr2, rel, now) // rotated credentials: a new tracker
	_, _ = cache.get(ctx, shop, tr2, rel, now.Add(issueTypesFreshFor))
	if rel.calls != 4 {
		t.Errorf("%d listings, want 4: another journey, a new tracker and an old listing each ask again", rel.calls)
	}
	cache.forget(shop)
	_, _ = cache.get(ctx, shop, tr2, rel, now.Add(issueTypesFreshFor))
	if rel.calls != 5 {
		t.Errorf("a forgotten journey was served from the cache")
	}
	rel.err = errors.New("GitHub is down")
	cache.forget(museum)
	if _, err := cache.get(ctx, museum, tr1, rel, now); err == nil {
		t.Errorf("a failed listing was not reported")
	}
	rel.err = nil
	_, _ = cache.get(ctx, museum, tr1, rel, now)
	if rel.calls != 7 {
		t.Errorf("a failed listing was cached: %d calls", rel.calls)
	}
	// A permission refused is said once, then not asked again for a while.
	rel.err = &tracker.PermissionError{Permission: tracker.PermissionIssueTypes}
	cache.forget(museum)
	if _, err := cache.get(ctx, museum, tr1, rel, now); err == nil {
		t.Errorf("the refusal was not reported the first time")
	}
	for range 3 {
		if types, err := cache.get(ctx, museum, tr1, rel, now.Add(time.Minute)); err != nil || types != nil {
			t.Errorf("a refusal kept: %v, %v; want no types and nothing to say", types, err)
		}
	}
	if rel.calls != 8 {
		t.Errorf("%d listings: a refused listing was asked again within the cache's time", rel.calls)
	}
}

func TestIssueTypeOfFollowsThePhase(t *testing.T) {
	cj := shopJourney()
	if got := issueTypeOf(cj, cxv1.PhaseImprove, false); got != "" {
		t.Errorf("a journey without a tracker maps %q", got)
	}
	if got := issueTypeOf(nil, cxv1.PhaseImprove, true); got != "" {
		t.Errorf("no journey maps %q", got)
	}
	cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{IssueTypes: cxv1.IssueTypeMapping{
		Discovery: "Task", Improve: "Feature", Perfection: "Epic", Personalization: "Story", Parent: "Initiative"}}}
	for phase, want := range map[cxv1.PhaseType]string{cxv1.PhaseDiscovery: "Task", cxv1.PhaseImprove: "Feature", cxv1.PhasePerfection: "Epic", cxv1.PhasePersonalization: "Story", "Unknown": ""} {
		if got := issueTypeOf(cj, phase, false); got != want {
			t.Errorf("%s: %q, want %q", phase, got, want)
		}
		if got := issueTypeOf(cj, phase, true); got != "Initiative" {
			t.Errorf("%s parent: %q, want Initiative", phase, got)
		}
	}
}

func TestHeldBack(t *testing.T) {
	w := newParentWorld(t)
	limited := &tracker.RateLimitError{ResumeAt: time.Now().Add(time.Hour)}
	for _, tc := range []struct {
		name     string
		run      *phaseRun
		held     bool
		atLeast  time.Duration
		noResult bool
	}{
		{name: "no tracker: held, nothing to look again for", run: &phaseRun{ph: phaseNamed("improve", "shop", "")}, held: true, noResult: true},
		{name: "a rate limit met by this run: held until it ends", run: &phaseRun{ph: phaseNamed("improve", "shop", ""), tr: w.tr, githubErr: limited}, held: true, atLeast: 59 * time.Minute},
		{name: "free to write", run: &phaseRun{ph: phaseNamed("improve", "shop", ""), tr: w.tr}, held: false, noResult: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held, res := heldBack(tc.run)
			if held != tc.held {
				t.Errorf("held %v, want %v", held, tc.held)
			}
			if tc.noResult && res != (steps.Result{}) {
				t.Errorf("result %v, want none", res)
			}
			if tc.atLeast > 0 && res.RequeueAfter < tc.atLeast {
				t.Errorf("requeue %v, want at least %v", res.RequeueAfter, tc.atLeast)
			}
		})
	}
}

// TestRelationFailedSaysWhatToFix: a missing permission is an Event for a
// person, not a failure to back off from; a GitHub failure is set aside;
// cxloop's own write budget is a requeue.
func TestRelationFailedSaysWhatToFix(t *testing.T) {
	ph := phaseNamed("improve", "shop", "")
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).Build()
	rec := events.NewFakeRecorder(10)
	r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(stepNow), Recorder: rec}

	run := &phaseRun{ph: ph}
	res := r.relationFailed(run, "reading the organisation's issue types", &tracker.PermissionError{Field: "spec.tracker.github.owner", Resource: "the issue types of shop", Permission: tracker.PermissionIssueTypes})
	if res != (steps.Result{}) || run.githubErr != nil {
		t.Errorf("permission: %v, set aside %v", res, run.githubErr)
	}
	if ev := <-rec.Events; !strings.Contains(ev, cxv1.ReasonPermissionMissing) || !strings.Contains(ev, "read:org") {
		t.Errorf("event %q does not name the permission", ev)
	}

	run = &phaseRun{ph: ph}
	_ = r.relationFailed(run, "making issue #3 a sub-issue of #1", &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: http.StatusBadGateway})
	if run.githubErr == nil || !strings.Contains(run.githubErr.Error(), "sub-issue") {
		t.Errorf("a GitHub failure was not set aside naming what failed: %v", run.githubErr)
	}

	run = &phaseRun{ph: ph}
	res = r.relationFailed(run, "linking", &tracker.RateLimitError{Budget: true, ResumeAt: stepNow.Add(30 * time.Second)})
	if res != steps.Requeue(30*time.Second) || run.githubErr != nil {
		t.Errorf("the write budget: %v, set aside %v; want a requeue when it allows", res, run.githubErr)
	}
}

// TestCompletedPhaseFinishesItsBoard: a phase that completed while the
// write budget held its board back, or whose outcome was verified after,
// still gets its issues on the board with their values; work the map no
// longer asks for keeps its Phase and Stage there.
func TestCompletedPhaseFinishesItsBoard(t *testing.T) {
	var w *parentWorld
	var project int
	journey := func() *cxv1.CustomerJourney {
		cj := shopWithParents(false)
		cj.Spec.Tracker.GitHub.Project = cxv1.GitHubProject{Owner: ghOwner, Number: 1}
		return cj
	}
	completed := func(ph *cxv1.ImprovementPhase) {
		w = newParentWorld(t)
		project = w.gh.AddProject(ghOwner, true, "Board")
		ph.Status.State = cxv1.PhaseCompleted
		ph.Status.Items = []cxv1.PhaseItem{
			{Key: "painpoint/gone-from-the-map", State: cxv1.ItemClosed, Issue: int64(w.numbers[0]), Source: cxv1.ItemSource{Stage: "pay", Persona: "family"},
				Outcome: &cxv1.ItemOutcome{Verdict: cxv1.VerdictImproved}},
			{Key: "painpoint/planned", State: cxv1.ItemPlanned},
		}
	}
	runPhaseStepCases(t, "holdCompletedOrSuspended", []phaseStepCase{
		{name: "on the board with what its item records, and its outcome", edit: completed, objects: []client.Object{journey()},
			trackers: trackerOf(func() tracker.Tracker { return w.tr }), want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			check: func(t *testing.T, run *phaseRun) {
				items, err := w.gh.ProjectItems(ghOwner, true, project)
				if err != nil {
					t.Fatal(err)
				}
				if len(items) != 1 || items[0].Number != w.numbers[0] {
					t.Fatalf("board %+v, want issue #%d alone (the planned item has none)", items, w.numbers[0])
				}
				want := map[string]string{"Phase": "Improve", "Stage": "pay", "Persona": "family", "Outcome": "Improved"}
				for f, v := range want {
					if items[0].Values[f] != v {
						t.Errorf("%s = %q, want %q (values %v)", f, items[0].Values[f], v, items[0].Values)
					}
				}
				if b := run.ph.Status.Items[0].Board; b.State != cxv1.BoardItemOnBoard || b.Values == "" {
					t.Errorf("board record %+v", b)
				}
			}},
	})
}

// TestParentWorkIsOnlyWhatThereIsToSend: an idle phase (everything linked,
// typed and recorded) has no parent work, so it asks nothing of the write
// budget; each kind of work left says so.
func TestParentWorkIsOnlyWhatThereIsToSend(t *testing.T) {
	prev := phaseNamed("discovery", "shop", "")
	prev.Status.Parent = &cxv1.PhaseParent{Issue: 1}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(prev).Build()
	r := &ImprovementPhaseReconciler{Client: c}
	done := func() *cxv1.ImprovementPhase {
		ph := phaseNamed("improve", "shop", "discovery")
		ph.Status.State = cxv1.PhaseActive
		ph.Status.Parent = &cxv1.PhaseParent{Issue: 9, BlockedBy: 1, IssueType: "Epic"}
		ph.Status.Items = []cxv1.PhaseItem{
			{Key: "a", State: cxv1.ItemOpen, Issue: 10, SubIssueOf: 9, IssueType: "Feature"},
			{Key: "b", State: cxv1.ItemObsolete, Issue: 11}, // obsolete: left alone
			{Key: "c", State: cxv1.ItemPlanned},
		}
		return ph
	}
	cj := shopWithParents(true)
	cj.Spec.Tracker.GitHub.IssueTypes = cxv1.IssueTypeMapping{Improve: "Feature", Parent: "Epic"}
	defined := map[string]bool{"feature": true, "epic": true}
	for _, tc := range []struct {
		name  string
		edit  func(ph *cxv1.ImprovementPhase)
		types map[string]bool
		want  bool
	}{
		{"all done", nil, defined, false},
		{"no parent yet", func(ph *cxv1.ImprovementPhase) { ph.Status.Parent = nil }, defined, true},
		{"no parent yet, nothing opened", func(ph *cxv1.ImprovementPhase) { ph.Status.Parent, ph.Status.Items = nil, ph.Status.Items[2:] }, defined, false},
		{"completed: opens no parent", func(ph *cxv1.ImprovementPhase) { ph.Status.Parent, ph.Status.State = nil, cxv1.PhaseCompleted }, defined, false},
		{"completed while its parent was pending: still owed", func(ph *cxv1.ImprovementPhase) {
			ph.Status.Parent, ph.Status.State = &cxv1.PhaseParent{State: cxv1.ParentIssuePending}, cxv1.PhaseCompleted
		}, defined, true},
		{"completed, the parent's attempt in flight: still owed", func(ph *cxv1.ImprovementPhase) {
			at := metav1.Now()
			ph.Status.Parent, ph.Status.State = &cxv1.PhaseParent{AttemptedAt: &at}, cxv1.PhaseCompleted
		}, defined, true},
		{"not blocked yet", func(ph *cxv1.ImprovementPhase) { ph.Status.Parent.BlockedBy = 0 }, defined, true},
		{"an issue to link", func(ph *cxv1.ImprovementPhase) { ph.Status.Items[0].SubIssueOf = 0 }, defined, true},
		{"an issue to type", func(ph *cxv1.ImprovementPhase) { ph.Status.Items[0].IssueType = "" }, defined, true},
		{"a type the organisation lacks", func(ph *cxv1.ImprovementPhase) { ph.Status.Items[0].IssueType = "" }, map[string]bool{"epic": true}, false},
		{"the parent to type", func(ph *cxv1.ImprovementPhase) { ph.Status.Parent.IssueType = "" }, defined, true},
		{"a lost parent: nothing", func(ph *cxv1.ImprovementPhase) {
			ph.Status.Parent.State, ph.Status.Parent.BlockedBy, ph.Status.Items[0].SubIssueOf = cxv1.ParentIssueLost, 0, 0
		}, defined, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := done()
			if tc.edit != nil {
				tc.edit(ph)
			}
			if got := r.parentWork(context.Background(), &phaseRun{ph: ph, cj: cj}, tc.types); got != tc.want {
				t.Errorf("parentWork = %v, want %v", got, tc.want)
			}
		})
	}
}

// createBehindTheTracker opens an issue on the local GitHub as another
// client would, labelled as cxloop labels its issues: the tracker's view
// does not hold it until it lists again.
func createBehindTheTracker(t *testing.T, w *parentWorld, title, body string) {
	t.Helper()
	c := otherGitHubClient(t, w.gh)
	labels := w.gh.Issues(ghOwner, ghRepo)[0].Labels
	if _, _, err := c.Issues.Create(context.Background(), ghOwner, ghRepo, &github.IssueRequest{Title: &title, Body: &body, Labels: &labels}); err != nil {
		t.Fatal(err)
	}
}

// otherGitHubClient reaches the local GitHub as another client than
// cxloop's would: a person, or a process whose answer cxloop never saw.
func otherGitHubClient(t testing.TB, gh *localgithub.Server) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(ghToken)
	u, err := url.Parse(strings.TrimSuffix(gh.URL(), "/") + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}
