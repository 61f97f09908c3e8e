package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
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
	// The map still asks for gap/b (syncIssues found it so).
	wanted := map[string]workitem.Item{"gap/b": {Key: "gap/b", Title: "Close the gap b"}}

	lost, landed := landedBehindAFreshView(t, bKey)
	// A repository where nothing landed.
	none := newParentWorld(t)

	runPhaseStepCases(t, "checkExitCriteria", []phaseStepCase{
		{name: "an attempt within its grace: not completed, GitHub not asked, looked at again as the grace ends",
			edit: halfClosed(20 * time.Second),
			prepare: func(run *phaseRun) {
				run.cj, run.work, run.tr = shopJourney(), wanted, &issueTracker{err: errors.New("GitHub must not be asked while the attempt may land")}
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
			edit: halfClosed(2 * time.Minute), prepare: func(run *phaseRun) { run.cj, run.work, run.tr = shopJourney(), wanted, lost.tr },
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
			edit: halfClosed(2 * time.Minute), prepare: func(run *phaseRun) { run.cj, run.work, run.tr = shopJourney(), wanted, none.tr },
			want: steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			check: func(t *testing.T, run *phaseRun) {
				if it := item(run); it.State != cxv1.ItemPlanned || it.Issue != 0 || it.AttemptedAt != nil {
					t.Errorf("item %+v, want it planned with its attempt taken back", it)
				}
			}},
		{name: "an attempt past its grace for work the map dropped since syncIssues: left to the next syncIssues, a second later",
			edit: halfClosed(2 * time.Minute),
			prepare: func(run *phaseRun) {
				run.cj, run.tr = shopJourney(), &issueTracker{err: errors.New("GitHub must not be asked: syncIssues looks for it")}
			},
			want: steps.Requeue(time.Second), wantState: cxv1.PhaseActive,
			check: func(t *testing.T, run *phaseRun) {
				if it := item(run); it.AttemptedAt == nil || it.State != cxv1.ItemPlanned || run.githubErr != nil {
					t.Errorf("item %+v (failure %v), want it held as it is", it, run.githubErr)
				}
			}},
		{name: "the look for it fails: not completed, the failure set aside for the phase's backoff",
			edit: halfClosed(2 * time.Minute),
			prepare: func(run *phaseRun) {
				run.cj, run.work = shopJourney(), wanted
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

// landedBehindAFreshView is a repository whose shared view was read just
// before the issue of key landed (a create whose answer was lost): Issues,
// within the view's freshness, does not show it. It returns the issue's number.
func landedBehindAFreshView(t *testing.T, key string) (*parentWorld, int) {
	t.Helper()
	w := newParentWorld(t)
	if _, err := w.tr.Issues(context.Background()); err != nil {
		t.Fatal(err)
	}
	createBehindTheTracker(t, w, "Work whose answer was lost", "Work.\n\n"+tracker.KeyMarker(key))
	all := w.gh.Issues(ghOwner, ghRepo)
	if seen, err := w.tr.Issues(context.Background()); err != nil || seen[key].Number != 0 {
		t.Fatalf("the view shows the landed issue already (%v, %v): the case would prove nothing", seen[key], err)
	}
	return w, all[len(all)-1].Number
}

// Planned work the map no longer asks for is dropped once no attempt to
// open it can land; its attempt past the grace, the view (which may be
// older than the grace) is not taken for GitHub's word.
func TestPhaseDropsWorkOnlyAfterAFreshLook(t *testing.T) {
	const goneKey = "ns/shop/painpoint/gone"
	lost, landed := landedBehindAFreshView(t, goneKey)
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

// halfDoneImprove is an Improve phase that completes at 50% closed, on a
// journey of four quick wins (p00-p03) of which p00 and p01 are opened and
// closed on a local GitHub; with the tracker that opened them. The phase
// is Active and its plan written.
func halfDoneImprove(t *testing.T) (*localgithub.Server, *tracker.Client, *cxv1.CustomerJourney, *cxv1.ImprovementPhase) {
	t.Helper()
	ctx := context.Background()
	gh := githubServer(t)
	cl, err := tracker.New(tracker.Config{Owner: ghOwner, Repo: ghRepo, APIURL: gh.URL(), Credentials: tracker.Credentials{Token: ghToken},
		WritesPerMinute: 600, WritesPerHour: 10000})
	if err != nil {
		t.Fatal(err)
	}
	cj := shopJourney()
	cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{Owner: ghOwner, Repo: ghRepo}}
	cj.Spec.Stages[0].Touchpoints[0].PainPoints = nil
	for i := range 4 {
		cj.Spec.Stages[0].Touchpoints[0].PainPoints = append(cj.Spec.Stages[0].Touchpoints[0].PainPoints,
			cxv1.PainPoint{ID: fmt.Sprintf("p%02d", i), Summary: "A pain", Impact: 5, Effort: 1})
	}
	ph := phaseNamed("improve", "shop", "")
	ph.Spec.ExitCriteria = &cxv1.ExitCriteria{ClosedPercent: ptr.To[int32](50)}
	started := metav1.NewTime(stepNow.Add(-time.Hour))
	ph.Status.State, ph.Status.StartedAt, ph.Status.ObservedGeneration = cxv1.PhaseActive, &started, ph.Generation
	ph.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionTrue, Reason: cxv1.ReasonTracking,
		ObservedGeneration: ph.Generation, LastTransitionTime: started}}
	for _, id := range []string{"p00", "p01"} {
		is, _, err := cl.EnsureIssue(ctx, tracker.IssueRequest{Key: "ns/shop/painpoint/" + id, Title: "A pain", Body: "Work."})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.CloseIssue(ctx, is.Number, "completed", ""); err != nil {
			t.Fatal(err)
		}
		ph.Status.Items = append(ph.Status.Items, cxv1.PhaseItem{Key: "painpoint/" + id, State: cxv1.ItemClosed, Issue: int64(is.Number)})
	}
	return gh, cl, cj, ph
}

// phaseReconcilerOn reconciles ph over the fake client, with tr as the
// journey's tracker and clk as its clock.
func phaseReconcilerOn(clk *clocktesting.FakeClock, tr tracker.Tracker, cj *cxv1.CustomerJourney, ph *cxv1.ImprovementPhase) (*ImprovementPhaseReconciler, client.Client) {
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cj, ph).WithStatusSubresource(ph, cj).
		WithIndex(&cxv1.ImprovementPhase{}, journeyRefIndex, func(o client.Object) []string {
			return []string{o.(*cxv1.ImprovementPhase).Spec.JourneyRef.Name}
		}).Build()
	return &ImprovementPhaseReconciler{Client: c, Clock: clk, Recorder: events.NewFakeRecorder(1000), Trackers: trackerOf(func() tracker.Tracker { return tr })}, c
}

// creates counts the creates sent through a tracker, and fails those of
// failing keys as GitHub's 502 would (the request may have landed).
type creates struct {
	*tracker.Client
	failing map[string]bool
	sent    []string
}

func (c *creates) EnsureIssue(ctx context.Context, req tracker.IssueRequest) (tracker.Issue, bool, error) {
	c.sent = append(c.sent, req.Key)
	if c.failing[req.Key] {
		return tracker.Issue{}, false, &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}
	}
	return c.Client.EnsureIssue(ctx, req)
}

// TestPhaseCompletesWithoutOpeningMore: whole reconciles of an Improve
// phase that completes at 50% closed. Two of its four quick wins are
// closed; p02's create was sent 20s ago and its answer lost (GitHub fails
// every create of it since); p03 was never opened. The phase opens
// nothing more, waits out p02's grace, asks GitHub for it, and completes:
// with p02's issue adopted if the lost create landed, without it if not.
// A create that keeps failing holds nothing up, as it is not sent again.
func TestPhaseCompletesWithoutOpeningMore(t *testing.T) {
	for _, landed := range []bool{false, true} {
		t.Run(fmt.Sprintf("the lost create landed: %v", landed), func(t *testing.T) {
			ctx := context.Background()
			gh, cl, cj, ph := halfDoneImprove(t)
			attempted := metav1.NewTime(stepNow.Add(-20 * time.Second))
			ph.Status.Items = append(ph.Status.Items, cxv1.PhaseItem{Key: "painpoint/p02", State: cxv1.ItemPlanned, AttemptedAt: &attempted})
			if _, err := cl.Issues(ctx); err != nil { // the shared view, read before the lost create landed
				t.Fatal(err)
			}
			if landed {
				createBehindTheTracker(t, &parentWorld{gh: gh}, "A pain", "Work.\n\n"+tracker.KeyMarker("ns/shop/painpoint/p02"))
			}
			onGitHub := len(gh.Issues(ghOwner, ghRepo))

			tr := &creates{Client: cl, failing: map[string]bool{"ns/shop/painpoint/p02": true}}
			clk := clocktesting.NewFakeClock(stepNow)
			r, c := phaseReconcilerOn(clk, tr, cj, ph)
			var got cxv1.ImprovementPhase
			for n := 0; ; n++ {
				res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ph)})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Get(ctx, client.ObjectKeyFromObject(ph), &got); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					if got.Status.State == cxv1.PhaseCompleted {
						t.Fatal("completed while p02's create may still land")
					}
					if c := conditionOf(got.Status.Conditions, cxv1.ConditionReady); c == nil || !strings.Contains(c.Message, "painpoint/p02") {
						t.Errorf("Ready %+v, want it to name the item it waits for", c)
					}
				}
				if got.Status.State == cxv1.PhaseCompleted {
					break
				}
				if n == 5 || res.RequeueAfter == 0 || res.RequeueAfter > time.Minute {
					t.Fatalf("not completed after %d reconciles (%s since the first), next in %s; Ready %+v",
						n+1, clk.Since(stepNow), res.RequeueAfter, conditionOf(got.Status.Conditions, cxv1.ConditionReady))
				}
				clk.Step(res.RequeueAfter)
			}
			if len(tr.sent) != 0 {
				t.Errorf("creates sent %v, want none: the phase completes", tr.sent)
			}
			if n := len(gh.Issues(ghOwner, ghRepo)); n != onGitHub {
				t.Errorf("%d issues on GitHub, want %d", n, onGitHub)
			}
			items := map[string]cxv1.PhaseItem{}
			for _, it := range got.Status.Items {
				items[it.Key] = it
			}
			p02, p03 := items["painpoint/p02"], items["painpoint/p03"]
			switch {
			case landed && (p02.State != cxv1.ItemOpen || p02.Issue == 0 || p02.AttemptedAt != nil):
				t.Errorf("p02 %+v, want its landed issue adopted", p02)
			case !landed && (p02.State != cxv1.ItemPlanned || p02.AttemptedAt != nil):
				t.Errorf("p02 %+v, want it planned, its attempt taken back", p02)
			}
			if p03.State != cxv1.ItemPlanned || p03.Issue != 0 {
				t.Errorf("p03 %+v, want it planned, never opened", p03)
			}
		})
	}
}

// TestDropsUnseenAttemptAsksOnlyWhenItMust: the fresh look of syncIssues
// is a request to GitHub; only a planned item the map dropped, its attempt
// past its grace and its issue not in the view, calls for it.
func TestDropsUnseenAttemptAsksOnlyWhenItMust(t *testing.T) {
	lapsed, pending := metav1.NewTime(stepNow.Add(-2*time.Minute)), metav1.NewTime(stepNow.Add(-20*time.Second))
	r := &ImprovementPhaseReconciler{Clock: clocktesting.NewFakeClock(stepNow)}
	for _, tc := range []struct {
		name   string
		item   cxv1.PhaseItem
		wanted bool
		seen   bool
		want   bool
	}{
		{name: "dropped, lapsed, unseen", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemPlanned, AttemptedAt: &lapsed}, want: true},
		{name: "still wanted", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemPlanned, AttemptedAt: &lapsed}, wanted: true},
		{name: "attempt within its grace (kept by Merge)", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemPlanned, AttemptedAt: &pending}},
		{name: "never attempted", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemPlanned}},
		{name: "its issue in the view", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemPlanned, AttemptedAt: &lapsed}, seen: true},
		{name: "not planned", item: cxv1.PhaseItem{Key: "gap/x", State: cxv1.ItemOpen, Issue: 3, AttemptedAt: &lapsed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := phaseNamed("improve", "shop", "")
			ph.Status.Items = []cxv1.PhaseItem{tc.item}
			run := &phaseRun{ph: ph, cj: shopJourney(), work: map[string]workitem.Item{}}
			if tc.wanted {
				run.work["gap/x"] = workitem.Item{Key: "gap/x"}
			}
			issues := map[string]tracker.Issue{}
			if tc.seen {
				issues["ns/shop/gap/x"] = tracker.Issue{Number: 9}
			}
			if got := r.dropsUnseenAttempt(run, issues); got != tc.want {
				t.Errorf("dropsUnseenAttempt = %v, want %v", got, tc.want)
			}
		})
	}
}

// landsAfterTheFirstLook is a tracker on which, right after its first
// fresh look (syncIssues', for work the map dropped), a create sent just
// before its grace ran out lands and 2s pass: the look settleAttempts
// takes must be its own.
type landsAfterTheFirstLook struct {
	*tracker.Client
	land  func()
	looks int
}

func (l *landsAfterTheFirstLook) IssuesNow(ctx context.Context) (map[string]tracker.Issue, error) {
	l.looks++
	m, err := l.Client.IssuesNow(ctx)
	if l.looks == 1 {
		l.land()
	}
	return m, err
}

func TestPhaseSettlesOnALookOfItsOwn(t *testing.T) {
	ctx := context.Background()
	gh, cl, cj, ph := halfDoneImprove(t)
	pending := metav1.NewTime(stepNow.Add(-59 * time.Second)) // wanted; 1s of its grace left at syncIssues
	lapsed := metav1.NewTime(stepNow.Add(-2 * time.Minute))   // work the map dropped: syncIssues looks afresh for it
	ph.Status.Items = append(ph.Status.Items,
		cxv1.PhaseItem{Key: "painpoint/p02", State: cxv1.ItemPlanned, AttemptedAt: &pending},
		cxv1.PhaseItem{Key: "painpoint/gone", State: cxv1.ItemPlanned, AttemptedAt: &lapsed})

	clk := clocktesting.NewFakeClock(stepNow)
	tr := &landsAfterTheFirstLook{Client: cl, land: func() {
		createBehindTheTracker(t, &parentWorld{gh: gh}, "A pain", "Work.\n\n"+tracker.KeyMarker("ns/shop/painpoint/p02"))
		clk.Step(2 * time.Second)
	}}
	r, c := phaseReconcilerOn(clk, tr, cj, ph)
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ph)}); err != nil {
		t.Fatal(err)
	}
	var got cxv1.ImprovementPhase
	if err := c.Get(ctx, client.ObjectKeyFromObject(ph), &got); err != nil {
		t.Fatal(err)
	}
	for _, it := range got.Status.Items {
		if it.Key == "painpoint/p02" && got.Status.State == cxv1.PhaseCompleted && (it.Issue == 0 || it.State != cxv1.ItemOpen) {
			t.Errorf("completed with p02 %+v: its issue, landed after syncIssues' look, untracked", it)
		}
	}
	if tr.looks != 2 {
		t.Errorf("%d fresh looks, want 2: syncIssues' and settleAttempts' own", tr.looks)
	}
}
