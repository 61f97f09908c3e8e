package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// A phase that may complete below 100% closed must not complete while one
// of its items has an issue on GitHub the phase does not know of: a
// completed phase syncs no more issues, so that issue would stay open and
// untracked. (The steps before checkExitCriteria set nothing it needs but
// the journey and the tracker.)
func TestPhaseCompletionSettlesAttempts(t *testing.T) {
	const bKey = "ns/shop/gap/b" // the tracker key of item gap/b
	// Half the items closed completes the phase; gap/b's create was sent
	// at attempted, and its answer never came.
	halfClosed := func(attempted time.Duration) func(ph *cxv1.ImprovementPhase) {
		return func(ph *cxv1.ImprovementPhase) {
			ph.Status.State = cxv1.PhaseActive
			ph.Spec.ExitCriteria = &cxv1.ExitCriteria{ClosedPercent: ptr.To[int32](50)}
			at := metav1.NewTime(stepNow.Add(-attempted))
			ph.Status.Items = []cxv1.PhaseItem{
				{Key: "gap/a", State: cxv1.ItemClosed, Issue: 1},
				{Key: "gap/b", State: cxv1.ItemPlanned, AttemptedAt: &at},
			}
		}
	}
	item := func(run *phaseRun) cxv1.PhaseItem { return run.ph.Status.Items[1] }

	// A repository whose shared view was read before the lost create
	// landed: Issues, within its freshness, does not show it.
	lost := newParentWorld(t)
	if _, err := lost.tr.Issues(context.Background()); err != nil {
		t.Fatal(err)
	}
	createBehindTheTracker(t, lost, "Close the gap b", "Work.\n\n"+tracker.KeyMarker(bKey))
	all := lost.gh.Issues(ghOwner, ghRepo)
	landed := all[len(all)-1].Number
	if seen, err := lost.tr.Issues(context.Background()); err != nil || seen[bKey].Number != 0 {
		t.Fatalf("the view shows the landed issue already (%v, %v): the case would prove nothing", seen[bKey], err)
	}
	// A repository where nothing landed.
	none := newParentWorld(t)

	runPhaseStepCases(t, "checkExitCriteria", []phaseStepCase{
		{name: "an attempt within its grace: not completed, GitHub not asked, looked at again as the grace ends",
			edit: halfClosed(20 * time.Second),
			prepare: func(run *phaseRun) {
				run.cj, run.tr = shopJourney(), &issueTracker{err: errors.New("GitHub must not be asked while the attempt may land")}
			},
			want: steps.Requeue(40 * time.Second), wantState: cxv1.PhaseActive,
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonTracking},
			check: func(t *testing.T, run *phaseRun) {
				if c := conditionOf(run.ph.Status.Conditions, cxv1.ConditionReady); !strings.Contains(c.Message, "gap/b") {
					t.Errorf("Ready says %q, want the item it waits for", c.Message)
				}
				if run.githubErr != nil {
					t.Errorf("failure set aside: %v", run.githubErr)
				}
				if it := item(run); it.AttemptedAt == nil || it.State != cxv1.ItemPlanned {
					t.Errorf("item %+v, want its attempt held", it)
				}
			}},
		{name: "an attempt past its grace whose issue landed behind a fresh view: adopted, then completed",
			edit: halfClosed(2 * time.Minute), prepare: func(run *phaseRun) { run.cj, run.tr = shopJourney(), lost.tr },
			want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			wantEvents: []string{cxv1.ReasonIssueOpened, cxv1.ReasonPhaseCompleted},
			check: func(t *testing.T, run *phaseRun) {
				if it := item(run); it.State != cxv1.ItemOpen || it.Issue != int64(landed) || it.AttemptedAt != nil {
					t.Errorf("item %+v, want issue #%d adopted, open", it, landed)
				}
				if n := len(lost.gh.Issues(ghOwner, ghRepo)); n != 4 {
					t.Errorf("%d issues on GitHub, want 4 (none opened again)", n)
				}
			}},
		{name: "an attempt past its grace whose issue GitHub does not have: taken back, completed",
			edit: halfClosed(2 * time.Minute), prepare: func(run *phaseRun) { run.cj, run.tr = shopJourney(), none.tr },
			want: steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			check: func(t *testing.T, run *phaseRun) {
				if it := item(run); it.State != cxv1.ItemPlanned || it.Issue != 0 || it.AttemptedAt != nil {
					t.Errorf("item %+v, want it planned with its attempt taken back", it)
				}
			}},
		{name: "the look for it fails: not completed, the failure set aside for the phase's backoff",
			edit: halfClosed(2 * time.Minute),
			prepare: func(run *phaseRun) {
				run.cj = shopJourney()
				run.tr = &issueTracker{err: &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}}
			},
			want: steps.Result{}, wantState: cxv1.PhaseActive,
			check: func(t *testing.T, run *phaseRun) {
				if !errors.As(run.githubErr, new(*githubError)) {
					t.Errorf("failure set aside: %v, want the look's", run.githubErr)
				}
				if it := item(run); it.AttemptedAt == nil {
					t.Errorf("item %+v, want its attempt kept", it)
				}
			}},
	})
}

// Planned work the map no longer asks for is dropped once no attempt to
// open it can land; its attempt past the grace, the view (which may be
// older than the grace) is not taken for GitHub's word.
func TestPhaseDropsWorkOnlyAfterAFreshLook(t *testing.T) {
	const goneKey = "ns/shop/painpoint/gone"
	lost := newParentWorld(t)
	if _, err := lost.tr.Issues(context.Background()); err != nil {
		t.Fatal(err)
	}
	createBehindTheTracker(t, lost, "A pain point since removed", "Work.\n\n"+tracker.KeyMarker(goneKey))
	all := lost.gh.Issues(ghOwner, ghRepo)
	landed := all[len(all)-1].Number
	if seen, err := lost.tr.Issues(context.Background()); err != nil || seen[goneKey].Number != 0 {
		t.Fatalf("the view shows the landed issue already (%v, %v): the case would prove nothing", seen[goneKey], err)
	}
	none := newParentWorld(t)

	removedWithAttempt := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State, ph.Spec.Type = cxv1.PhaseActive, cxv1.PhaseDiscovery
		at := metav1.NewTime(stepNow.Add(-2 * time.Minute))
		ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/gone", State: cxv1.ItemPlanned, AttemptedAt: &at}}
	}
	prepare := func(tr tracker.Tracker) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.cj = shopJourney()
			run.m = measuredMap(run.cj)
			run.pc = (&ImprovementPhaseReconciler{}).phaseContext(run.ph, run.cj)
			run.tr = tr
		}
	}
	gone := func(run *phaseRun) (cxv1.PhaseItem, int, bool) {
		for i, it := range run.ph.Status.Items {
			if it.Key == "painpoint/gone" {
				return it, i, true
			}
		}
		return cxv1.PhaseItem{}, 0, false
	}
	runPhaseStepCases(t, "syncIssues", []phaseStepCase{
		{name: "its issue landed behind the view: adopted, and closed as not planned", edit: removedWithAttempt, objects: []client.Object{shopJourney()},
			prepare: prepare(lost.tr), want: steps.Result{},
			check: func(t *testing.T, run *phaseRun) {
				it, i, ok := gone(run)
				if !ok || it.Issue != int64(landed) || it.State != cxv1.ItemOpen {
					t.Fatalf("item %+v (kept: %v), want issue #%d adopted", it, ok, landed)
				}
				if len(run.changes) != 1 || run.changes[0].Index != i || run.changes[0].Action != plan.CloseAsNotPlanned {
					t.Errorf("changes %+v, want its issue closed as not planned", run.changes)
				}
			}},
		{name: "GitHub has none: dropped", edit: removedWithAttempt, objects: []client.Object{shopJourney()},
			prepare: prepare(none.tr), want: steps.Result{},
			check: func(t *testing.T, run *phaseRun) {
				if it, _, ok := gone(run); ok {
					t.Errorf("item %+v kept, want it dropped", it)
				}
			}},
	})
}
