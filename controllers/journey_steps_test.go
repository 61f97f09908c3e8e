package controllers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// The journey reconciler's steps, each called on its own with a state
// built for the case: an in-memory API client (controller-runtime's fake)
// and, for the GitHub steps, the local GitHub over real HTTP. The envtest
// tests drive them together.

// journeyStepRig is a journey reconciler over an in-memory client.
type journeyStepRig struct {
	r   *CustomerJourneyReconciler
	rec *events.FakeRecorder
	c   client.Client
}

func newJourneyStepRig(t *testing.T, clk clock.PassiveClock, objs ...client.Object) *journeyStepRig {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&cxv1.CustomerJourney{}).
		WithIndex(&cxv1.ImprovementPhase{}, journeyRefIndex, func(o client.Object) []string {
			return []string{o.(*cxv1.ImprovementPhase).Spec.JourneyRef.Name}
		}).Build()
	rec := events.NewFakeRecorder(100)
	return &journeyStepRig{r: &CustomerJourneyReconciler{Client: c, Recorder: rec, Clock: clk, CreateGrace: time.Minute}, rec: rec, c: c}
}

// told tells the news s found (as a write of its status would) and
// drains the Events recorded so far.
func (g *journeyStepRig) told(s *journeyState) []string {
	s.news.told(g.rec, s.cj)
	return g.events()
}

// events drains the Events recorded so far, as "Type Reason note".
func (g *journeyStepRig) events() []string {
	var out []string
	for {
		select {
		case e := <-g.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// stepJourney is the sample journey, untracked, as the API server holds it.
func stepJourney(t *testing.T) *cxv1.CustomerJourney {
	t.Helper()
	cj := sampleJourney(t, "ns")
	cj.Generation, cj.ResourceVersion = 3, ""
	cj.Spec.Tracker = nil
	return cj
}

// stateAfter is the state a step finds: the steps before it ran.
func stateAfter(t *testing.T, rig *journeyStepRig, cj *cxv1.CustomerJourney, step string) *journeyState {
	t.Helper()
	s := newJourneyState(cj)
	for _, st := range rig.r.journeySteps() {
		if st.Name == step {
			return s
		}
		if _, err := st.Run(context.Background(), s); err != nil {
			t.Fatalf("step %s before %s: %v", st.Name, step, err)
		}
	}
	t.Fatalf("no step %s", step)
	return nil
}

func TestJourneyStepsInOrder(t *testing.T) {
	got := steps.Names((&CustomerJourneyReconciler{}).journeySteps())
	want := []string{"phases", "validate", "measures", "score", "history", "schedule", "tracker", "reviews", "dashboard", "scored"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func journeyPhase(name, journey string, typ cxv1.PhaseType, state cxv1.PhaseState) *cxv1.ImprovementPhase {
	ph := &cxv1.ImprovementPhase{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:       cxv1.ImprovementPhaseSpec{JourneyRef: cxv1.JourneyReference{Name: journey}, Type: typ},
	}
	ph.Status.State = state
	return ph
}

func TestLoadPhasesStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases []client.Object
		want   []string
	}{
		{"none", nil, nil},
		{"its own, not another journey's", []client.Object{
			journeyPhase("discovery", "nature-park-visit", cxv1.PhaseDiscovery, cxv1.PhaseCompleted),
			journeyPhase("improve", "nature-park-visit", cxv1.PhaseImprove, cxv1.PhaseActive),
			journeyPhase("museum-improve", "museum-visit", cxv1.PhaseImprove, cxv1.PhaseActive),
		}, []string{"discovery", "improve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clock.RealClock{}, tc.phases...)
			s := newJourneyState(stepJourney(t))
			res, err := rig.r.loadPhases(context.Background(), s)
			if err != nil || res != (steps.Result{}) {
				t.Fatalf("loadPhases = %v, %v", res, err)
			}
			var got []string
			for _, p := range s.phases {
				got = append(got, p.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("phases %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateMapStep(t *testing.T) {
	duplicate := func(cj *cxv1.CustomerJourney) {
		tps := cj.Spec.Stages[0].Touchpoints
		tps[1].PainPoints = append(tps[1].PainPoints, cxv1.PainPoint{ID: "twice", Summary: "a"})
		tps[2].PainPoints = append(tps[2].PainPoints, cxv1.PainPoint{ID: "twice", Summary: "b"})
	}
	for _, tc := range []struct {
		name      string
		edit      func(*cxv1.CustomerJourney)
		stalledAs string // a Stalled condition already there, with this message
		wantStall bool
		wantEvent bool
	}{
		{name: "a valid map goes on", edit: func(*cxv1.CustomerJourney) {}},
		{name: "duplicate pain point IDs stall, with an Event", edit: duplicate, wantStall: true, wantEvent: true},
		{name: "the same stall again: no second Event", edit: duplicate, stalledAs: "same", wantStall: true},
		{name: "a stall with another message: an Event", edit: duplicate, stalledAs: "an older problem", wantStall: true, wantEvent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clock.RealClock{})
			cj := stepJourney(t)
			tc.edit(cj)
			s := newJourneyState(cj)
			if tc.stalledAs != "" {
				probe := newJourneyState(cj.DeepCopy())
				if _, err := rig.r.validateMap(context.Background(), probe); err != nil {
					t.Fatal(err)
				}
				rig.events()
				msg := probe.ready.stalled.Message
				if tc.stalledAs != "same" {
					msg = tc.stalledAs
				}
				summarizeReady(&cj.Status.Conditions, cj.Generation, readiness{stalled: verdict{cxv1.ReasonInvalidMap, msg}})
			}
			res, err := rig.r.validateMap(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if want := (steps.Result{Stop: tc.wantStall}); res != want {
				t.Errorf("result %v, want %v", res, want)
			}
			if got := s.ready.stalled; tc.wantStall != (got.Reason == cxv1.ReasonInvalidMap) || tc.wantStall && !strings.Contains(got.Message, "twice") {
				t.Errorf("stalled verdict %+v, want stalled %v naming the duplicate ID", got, tc.wantStall)
			}
			if len(s.m.Stages) != len(cj.Spec.Stages) {
				t.Errorf("the step left no map for the steps after it")
			}
			if evs := rig.told(s); (len(evs) == 1 && strings.Contains(evs[0], "Warning InvalidMap")) != tc.wantEvent || len(evs) > 1 {
				t.Errorf("events %q, want an InvalidMap Warning: %v", evs, tc.wantEvent)
			}
		})
	}
}

func TestReadMapMeasuresStep(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		journey   func(*testing.T) *cxv1.CustomerJourney
		src       metricsource.Source
		min, max  time.Duration
		wantReady metav1.ConditionStatus // "" : no MeasuresReady
		readings  int                    // on the first touchpoint
	}{
		{"a map without measures: nothing to read again", stepJourney, nil, 0, 0, "", 0},
		{"read: again in about 5 minutes, readings on the map", func(*testing.T) *cxv1.CustomerJourney { return measuredJourney() },
			&querySource{values: map[string]float64{"avg(csat)": 3.5, "max(wait)": 90}}, measureInterval, measureInterval * 11 / 10, metav1.ConditionTrue, 2},
		{"Prometheus down: again in about a minute", func(*testing.T) *cxv1.CustomerJourney { return measuredJourney() },
			&querySource{errs: map[string]error{"avg(csat)": errors.New("connection refused")}}, measureRetry, measureRetry * 11 / 10, metav1.ConditionFalse, 0},
		{"no Prometheus configured: nothing to read again", func(*testing.T) *cxv1.CustomerJourney { return measuredJourney() },
			nil, 0, 0, metav1.ConditionFalse, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clocktesting.NewFakePassiveClock(at))
			rig.r.Metrics = tc.src
			cj := tc.journey(t)
			s := newJourneyState(cj)
			s.m = journeyMap(&cj.Spec)
			res, err := rig.r.readMapMeasures(context.Background(), s)
			if err != nil || res.Stop || res.RequeueAfter < tc.min || res.RequeueAfter > tc.max {
				t.Fatalf("result %v, %v; want a requeue within [%s, %s]", res, err, tc.min, tc.max)
			}
			c := conditionOf(cj.Status.Conditions, cxv1.ConditionMeasuresReady)
			switch {
			case tc.wantReady == "" && c != nil, tc.wantReady != "" && (c == nil || c.Status != tc.wantReady):
				t.Errorf("MeasuresReady %+v, want %q", c, tc.wantReady)
			}
			if got := len(s.m.Stages[0].Touchpoints[0].Readings); got != tc.readings {
				t.Errorf("%d readings on the map, want %d", got, tc.readings)
			}
		})
	}
}

func TestScoreJourneyStep(t *testing.T) {
	for _, tc := range []struct {
		name       string
		phases     []cxv1.ImprovementPhase
		wantActive string
	}{
		{"no phases", nil, ""},
		{"the earliest active phase in the method's order", []cxv1.ImprovementPhase{
			*journeyPhase("improve", "nature-park-visit", cxv1.PhaseImprove, cxv1.PhaseActive),
			*journeyPhase("discovery", "nature-park-visit", cxv1.PhaseDiscovery, cxv1.PhaseActive),
			*journeyPhase("perfection", "nature-park-visit", cxv1.PhasePerfection, cxv1.PhaseCompleted),
		}, "discovery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clock.RealClock{})
			cj := stepJourney(t)
			s := newJourneyState(cj)
			s.m, s.phases = journeyMap(&cj.Spec), tc.phases
			res, err := rig.r.scoreJourney(context.Background(), s)
			if err != nil || res != (steps.Result{}) {
				t.Fatalf("result %v, %v", res, err)
			}
			st := cj.Status
			if st.Summary == nil || st.Summary.Touchpoints == 0 || st.HealthScore == nil || len(st.Gaps) == 0 {
				t.Errorf("summary %+v, health %v, %d gaps: want the sample's figures", st.Summary, st.HealthScore, len(st.Gaps))
			}
			if st.ActivePhase != tc.wantActive {
				t.Errorf("active phase %q, want %q", st.ActivePhase, tc.wantActive)
			}
		})
	}
}

func TestRecordJourneyHistoryStep(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	point := func(ago time.Duration, health int32) cxv1.JourneyHistoryPoint {
		return cxv1.JourneyHistoryPoint{Time: metav1.NewTime(at.Add(-ago)), HealthScore: health}
	}
	for _, tc := range []struct {
		name       string
		history    []cxv1.JourneyHistoryPoint
		wantPoints int
		wantWait   time.Duration
	}{
		{"the first point is recorded at once", nil, 1, 0},
		{"a change within the hour waits for it", []cxv1.JourneyHistoryPoint{point(20*time.Minute, 1)}, 1, 40 * time.Minute},
		{"a change after the hour is recorded", []cxv1.JourneyHistoryPoint{point(2*time.Hour, 1)}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clocktesting.NewFakePassiveClock(at))
			cj := stepJourney(t)
			s := newJourneyState(cj)
			s.m = journeyMap(&cj.Spec)
			scoreMap(cj, s.m, nil)
			cj.Status.History = tc.history
			res, err := rig.r.recordJourneyHistory(context.Background(), s)
			if err != nil || res != steps.Requeue(tc.wantWait) {
				t.Errorf("result %v, %v; want a requeue after %s", res, err, tc.wantWait)
			}
			if got := len(cj.Status.History); got != tc.wantPoints {
				t.Errorf("%d points, want %d", got, tc.wantPoints)
			}
		})
	}
}

func TestParseReviewScheduleStep(t *testing.T) {
	for _, tc := range []struct {
		name          string
		review        *cxv1.ReviewSpec
		stalled       bool // already Stalled with InvalidSchedule
		wantField     string
		wantEvent     bool
		wantScheduled bool
	}{
		{name: "no review: nothing scheduled"},
		{name: "a valid schedule", review: &cxv1.ReviewSpec{Schedule: "@quarterly", TimeZone: ptr.To("Europe/Amsterdam")}, wantScheduled: true},
		{name: "a bad schedule stalls, naming the field", review: &cxv1.ReviewSpec{Schedule: "every tuesday"}, wantField: "spec.review.schedule", wantEvent: true},
		{name: "a bad time zone stalls, naming the field", review: &cxv1.ReviewSpec{Schedule: "@monthly", TimeZone: ptr.To("Mars/Olympus")}, wantField: "spec.review.timeZone", wantEvent: true},
		{name: "still stalled: no second Event", review: &cxv1.ReviewSpec{Schedule: "every tuesday"}, stalled: true, wantField: "spec.review.schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clock.RealClock{})
			cj := stepJourney(t)
			cj.Spec.Review = tc.review
			nt := metav1.Now()
			cj.Status.NextReviewTime = &nt
			if tc.stalled {
				summarizeReady(&cj.Status.Conditions, cj.Generation, readiness{stalled: verdict{cxv1.ReasonInvalidSchedule, "before"}})
			}
			s := newJourneyState(cj)
			res, err := rig.r.parseReviewSchedule(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			stop := tc.wantField != ""
			if res != (steps.Result{Stop: stop}) {
				t.Errorf("result %v, want stop %v", res, stop)
			}
			if (s.sched != nil) != tc.wantScheduled {
				t.Errorf("schedule %v, want one: %v", s.sched, tc.wantScheduled)
			}
			if got := s.ready.stalled; stop && (got.Reason != cxv1.ReasonInvalidSchedule || !strings.HasPrefix(got.Message, tc.wantField+":")) {
				t.Errorf("stalled %+v, want InvalidSchedule naming %s", got, tc.wantField)
			}
			if stop && cj.Status.NextReviewTime != nil {
				t.Errorf("a stalled schedule still shows a next review at %v", cj.Status.NextReviewTime)
			}
			if evs := rig.told(s); (len(evs) == 1) != tc.wantEvent || len(evs) > 1 {
				t.Errorf("events %q, want one: %v", evs, tc.wantEvent)
			}
		})
	}
}

// trackedStepJourney is the sample journey tracked on gh, with its
// credentials Secret.
func trackedStepJourney(t *testing.T, gh *localgithub.Server) (*cxv1.CustomerJourney, *corev1.Secret) {
	t.Helper()
	cj := sampleJourney(t, "ns")
	cj.Generation = 3
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: cj.Spec.Tracker.GitHub.SecretRef.Name, Labels: credentialsLabels()},
		Data: map[string][]byte{"token": []byte(ghToken)}}
	return cj, secret
}

// trackedRig is a rig whose journey is tracked on a local GitHub: the
// journey and its Secret are in the API, the reconciler reaches GitHub.
func trackedRig(t *testing.T, clk clock.PassiveClock, gh *localgithub.Server, edit func(*cxv1.CustomerJourney)) (*journeyStepRig, *cxv1.CustomerJourney) {
	t.Helper()
	cj, secret := trackedStepJourney(t, gh)
	edit(cj)
	rig := newJourneyStepRig(t, clk, cj, secret)
	rig.r.Trackers = &Trackers{Reader: rig.c, HTTPClient: &http.Client{Timeout: 2 * time.Second}, WritesPerMinute: 600, WritesPerHour: 36000,
		allowedHostsNow: localGitHubHosts.list}
	var got cxv1.CustomerJourney
	if err := rig.c.Get(context.Background(), client.ObjectKeyFromObject(cj), &got); err != nil {
		t.Fatal(err)
	}
	return rig, &got
}

func TestConnectTrackerStep(t *testing.T) {
	gh := githubServer(t)
	leftovers := func(cj *cxv1.CustomerJourney) {
		cj.Status.Dashboard = &cxv1.IssueReference{Number: 1}
		cj.Status.Review = &cxv1.ReviewStatus{Missed: 1}
		cj.Status.GitHubRepository = &cxv1.GitHubRepositoryStatus{ID: 1, FullName: "a/b"}
		for _, c := range trackerOwned {
			cj.Status.Conditions = append(cj.Status.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue, Reason: "Before"})
		}
	}
	for _, tc := range []struct {
		name        string
		edit        func(*cxv1.CustomerJourney)
		noTrackers  bool
		want        steps.Result
		wantErr     bool
		wantTracker metav1.ConditionStatus // "" : no TrackerReady
		wantReason  string
		wantVerdict string // "stalled", "reconciling" or ""
		connected   bool
	}{
		{name: "untracked: what only tracking gives goes", edit: func(cj *cxv1.CustomerJourney) { leftovers(cj); cj.Spec.Tracker = nil }},
		{name: "no tracker source: the same", edit: leftovers, noTrackers: true},
		{name: "connected: GitHub's repository recorded", edit: func(*cxv1.CustomerJourney) {},
			wantTracker: metav1.ConditionTrue, wantReason: cxv1.ReasonConnected, connected: true},
		{name: "the Secret not applied yet: waits for it, Reconciling", edit: func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.SecretRef.Name = "later" },
			want: steps.Done(time.Minute), wantTracker: metav1.ConditionFalse, wantReason: cxv1.ReasonSecretNotFound, wantVerdict: "reconciling"},
		{name: "a host the credentials may not go to: Stalled", edit: func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.APIURL = "https://ghe.example.com/api/v3" },
			want: steps.Done(time.Minute), wantTracker: metav1.ConditionFalse, wantReason: cxv1.ReasonHostNotAllowed, wantVerdict: "stalled"},
		{name: "an unknown repository: Stalled", edit: func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.Repo = "no-such-repo" },
			want: steps.Done(5 * time.Minute), wantTracker: metav1.ConditionFalse, wantReason: cxv1.ReasonRepositoryNotFound, wantVerdict: "stalled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig, cj := trackedRig(t, clock.RealClock{}, gh, tc.edit)
			if tc.noTrackers {
				rig.r.Trackers = nil
			}
			s := newJourneyState(cj)
			res, err := rig.r.connectTracker(context.Background(), s)
			if (err != nil) != tc.wantErr || res != tc.want {
				t.Fatalf("result %v, %v; want %v", res, err, tc.want)
			}
			c := conditionOf(cj.Status.Conditions, cxv1.ConditionTrackerReady)
			switch {
			case tc.wantTracker == "" && c != nil:
				t.Errorf("TrackerReady %+v on an untracked journey", c)
			case tc.wantTracker != "" && (c == nil || c.Status != tc.wantTracker || c.Reason != tc.wantReason):
				t.Errorf("TrackerReady %+v, want %s %s", c, tc.wantTracker, tc.wantReason)
			}
			if tc.wantTracker == "" {
				for _, typ := range trackerOwned {
					if conditionOf(cj.Status.Conditions, typ) != nil {
						t.Errorf("%s stayed on an untracked journey", typ)
					}
				}
				if cj.Status.Dashboard != nil || cj.Status.Review != nil || cj.Status.GitHubRepository != nil {
					t.Errorf("tracking's status stayed: %+v %+v %+v", cj.Status.Dashboard, cj.Status.Review, cj.Status.GitHubRepository)
				}
			}
			got := ""
			switch {
			case s.ready.stalled.set():
				got = "stalled"
			case s.ready.reconciling.set():
				got = "reconciling"
			}
			if got != tc.wantVerdict || got != "" && s.ready.stalled.Reason+s.ready.reconciling.Reason != tc.wantReason {
				t.Errorf("verdict %+v, want %s %s", s.ready, tc.wantVerdict, tc.wantReason)
			}
			if (s.gh != nil) != tc.connected {
				t.Errorf("GitHub handed on: %v, want %v", s.gh != nil, tc.connected)
			}
			if tc.connected && (cj.Status.GitHubRepository == nil || cj.Status.GitHubRepository.FullName != ghOwner+"/"+ghRepo) {
				t.Errorf("repository %+v", cj.Status.GitHubRepository)
			}
		})
	}
}

// verdictOf names the kind of verdict a run recorded.
func verdictOf(rd readiness) (kind, reason string) {
	switch {
	case rd.stalled.set():
		return "stalled", rd.stalled.Reason
	case rd.reconciling.set():
		return "reconciling", rd.reconciling.Reason
	case rd.ready.set():
		return "ready", rd.ready.Reason
	}
	return "", ""
}

// hourlyReviews reviews the journey every hour, from a journey created in
// the hour before now.
func hourlyReviews(now time.Time, deadline int64) func(*cxv1.CustomerJourney) {
	return func(cj *cxv1.CustomerJourney) {
		cj.CreationTimestamp = metav1.NewTime(now.Add(-50 * time.Minute)) // this hour's review is its first
		cj.Spec.Review = &cxv1.ReviewSpec{Schedule: "0 * * * *", StartingDeadlineSeconds: ptr.To(deadline)}
	}
}

func TestSyncReviewsStep(t *testing.T) {
	hourStart := time.Now().UTC().Truncate(time.Hour)
	at := hourStart.Add(10 * time.Minute) // 10 minutes into the hour: this hour's review is due
	for _, tc := range []struct {
		name        string
		edit        func(*cxv1.CustomerJourney)
		untracked   bool
		runs        int // runs, an hour apart
		githubDown  bool
		wantResult  steps.Result
		wantNext    bool // status.nextReviewTime set
		wantOpen    int  // open review issues on GitHub
		wantMissed  int32
		wantOverdue bool
		wantEvents  []string // reasons, in order
		wantVerdict string
	}{
		{name: "no review: nothing scheduled", edit: func(cj *cxv1.CustomerJourney) { cj.Spec.Review = nil }, runs: 1},
		{name: "untracked: only the next review's time", edit: hourlyReviews(at, 3600), untracked: true, runs: 1,
			wantResult: steps.Requeue(50 * time.Minute), wantNext: true},
		{name: "tracked: the due review is opened once", edit: hourlyReviews(at, 3600), runs: 1,
			wantResult: steps.Requeue(50 * time.Minute), wantNext: true, wantOpen: 1, wantEvents: []string{cxv1.ReasonReviewOpened}},
		{name: "the review still open at the next: overdue", edit: hourlyReviews(at, 3600), runs: 2,
			wantResult: steps.Requeue(50 * time.Minute), wantNext: true, wantOpen: 2, wantOverdue: true,
			wantEvents: []string{cxv1.ReasonReviewOpened, cxv1.ReasonReviewOpened}},
		{name: "past the starting deadline: missed, nothing opened", edit: hourlyReviews(at, 60), runs: 1,
			wantResult: steps.Requeue(50 * time.Minute), wantNext: true, wantMissed: 1, wantEvents: []string{cxv1.ReasonReviewMissed}},
		{name: "GitHub down: the run stops, Reconciling, retried within seconds", edit: hourlyReviews(at, 3600), runs: 1, githubDown: true,
			wantVerdict: "reconciling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh := githubServer(t)
			clk := clocktesting.NewFakeClock(at)
			rig, cj := trackedRig(t, clk, gh, func(cj *cxv1.CustomerJourney) {
				tc.edit(cj)
				if tc.untracked {
					cj.Spec.Tracker = nil
				}
			})
			res, s := runTrackedStep(t, rig, cj, gh, tc.runs, tc.githubDown, "reviews", rig.r.syncReviews, func(run int) {
				clk.SetTime(at.Add(time.Duration(run) * time.Hour))
			})
			if tc.githubDown {
				checkGitHubRetry(t, cj, res)
			} else if res != tc.wantResult {
				t.Errorf("result %v, want %v", res, tc.wantResult)
			}
			if (cj.Status.NextReviewTime != nil) != tc.wantNext {
				t.Errorf("next review %v, want one: %v", cj.Status.NextReviewTime, tc.wantNext)
			}
			if tc.githubDown {
				if kind, reason := verdictOf(s.ready); kind != tc.wantVerdict || reason == "" {
					t.Errorf("verdict %s %s, want %s", kind, reason, tc.wantVerdict)
				}
				return
			}
			reviews := reviewIssues(gh)
			if len(reviews) != tc.wantOpen || len(reviews) > 0 && reviews[len(reviews)-1].State != "open" {
				t.Errorf("review issues %+v, want %d, open", reviews, tc.wantOpen)
			}
			if tc.wantOpen > 0 && (cj.Status.Review == nil || cj.Status.Review.OpenIssue == nil) {
				t.Errorf("status.review %+v names no open issue", cj.Status.Review)
			}
			if got := ptr.Deref(cj.Status.Review, cxv1.ReviewStatus{}).Missed; got != tc.wantMissed {
				t.Errorf("missed %d, want %d", got, tc.wantMissed)
			}
			if got := conditionOf(cj.Status.Conditions, cxv1.ConditionReviewOverdue) != nil; got != tc.wantOverdue {
				t.Errorf("ReviewOverdue %v, want %v", got, tc.wantOverdue)
			}
			if kind, _ := verdictOf(s.ready); kind != "" {
				t.Errorf("the reviews step recorded a verdict %s: Ready is not its to say", kind)
			}
			var reasons []string
			for _, e := range rig.events() {
				reasons = append(reasons, strings.Fields(e)[1])
			}
			if tc.runs == 1 && !slices.Equal(reasons, tc.wantEvents) || tc.runs > 1 && len(reasons) != 1 {
				t.Errorf("events %v, want %v", reasons, tc.wantEvents)
			}
		})
	}
}

// runTrackedStep runs the steps up to step, then step, runs times, the
// status written after each run as Reconcile writes it; before is called
// ahead of each run. With githubDown, GitHub goes away just before step.
func runTrackedStep(t *testing.T, rig *journeyStepRig, cj *cxv1.CustomerJourney, gh *localgithub.Server, runs int, githubDown bool,
	step string, run func(context.Context, *journeyState) (steps.Result, error), before func(run int)) (steps.Result, *journeyState) {
	t.Helper()
	var res steps.Result
	var s *journeyState
	for i := range runs {
		before(i)
		if i > 0 {
			if err := rig.c.Get(context.Background(), client.ObjectKeyFromObject(cj), cj); err != nil {
				t.Fatal(err)
			}
		}
		s = stateAfter(t, rig, cj, step)
		if s.gh == nil && cj.Spec.Tracker != nil {
			t.Fatalf("not connected: %+v", cj.Status.Conditions)
		}
		s.news = nil // the steps before's (the map scored): not the step's
		rig.events()
		if githubDown {
			_ = gh.Close()
		}
		var err error
		if res, err = run(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if err := patchStatus(context.Background(), rig.c, rig.c, s.persisted, cj, rig.rec, &s.news); err != nil {
			t.Fatal(err)
		}
	}
	return res, s
}

// checkGitHubRetry: a GitHub outage stops the run and is retried within
// the first backoff step (1s, jittered up to 20%), TrackerReady saying so.
func checkGitHubRetry(t *testing.T, cj *cxv1.CustomerJourney, res steps.Result) {
	t.Helper()
	if !res.Stop || res.RequeueAfter < firstRetry || res.RequeueAfter > firstRetry*6/5 {
		t.Errorf("result %v, want a stop and a retry after %s to %s", res, firstRetry, firstRetry*6/5)
	}
	if c := conditionOf(cj.Status.Conditions, cxv1.ConditionTrackerReady); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "retrying in 1s") {
		t.Errorf("TrackerReady %+v, want False saying when it retries", c)
	}
}

func TestSyncDashboardStep(t *testing.T) {
	sync := func(res steps.Result) bool {
		return !res.Stop && res.RequeueAfter >= journeySyncInterval && res.RequeueAfter <= journeySyncInterval*11/10
	}
	for _, tc := range []struct {
		name          string
		edit          func(*cxv1.CustomerJourney)
		runs          int
		githubDown    bool
		wantResult    func(steps.Result) bool
		wantDashboard bool
		wantIssues    int
	}{
		{name: "untracked: nothing to do", edit: func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker = nil }, runs: 1,
			wantResult: func(res steps.Result) bool { return res == steps.Result{} }},
		{name: "no dashboard wanted: none, GitHub looked at again in about 10 minutes", edit: func(cj *cxv1.CustomerJourney) {
			cj.Spec.Tracker.GitHub.Dashboard = ptr.To(false)
			cj.Status.Dashboard = &cxv1.IssueReference{Number: 9}
		}, runs: 1, wantResult: sync},
		{name: "opened once", edit: func(*cxv1.CustomerJourney) {}, runs: 1, wantResult: sync, wantDashboard: true, wantIssues: 1},
		{name: "edited, never opened twice", edit: func(*cxv1.CustomerJourney) {}, runs: 3, wantResult: sync, wantDashboard: true, wantIssues: 1},
		{name: "GitHub down: the run stops, Reconciling, retried within seconds", edit: func(*cxv1.CustomerJourney) {}, runs: 1, githubDown: true,
			wantResult: func(steps.Result) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh := githubServer(t)
			rig, cj := trackedRig(t, clock.RealClock{}, gh, func(cj *cxv1.CustomerJourney) { cj.Spec.Review = nil; tc.edit(cj) })
			res, s := runTrackedStep(t, rig, cj, gh, tc.runs, tc.githubDown, "dashboard", rig.r.syncDashboard, func(int) {})
			if !tc.wantResult(res) {
				t.Errorf("result %v", res)
			}
			if tc.githubDown {
				checkGitHubRetry(t, cj, res)
				if kind, _ := verdictOf(s.ready); kind != "reconciling" {
					t.Errorf("verdict %+v, want reconciling", s.ready)
				}
				return
			}
			if (cj.Status.Dashboard != nil) != tc.wantDashboard {
				t.Errorf("status.dashboard %+v, want one: %v", cj.Status.Dashboard, tc.wantDashboard)
			}
			got := issuesOf(gh, "dashboard")
			if len(got) != tc.wantIssues {
				t.Errorf("%d dashboard issues, want %d", len(got), tc.wantIssues)
			}
			for _, is := range got {
				if int64(is.Number) != cj.Status.Dashboard.Number {
					t.Errorf("status.dashboard #%d, GitHub's #%d", cj.Status.Dashboard.Number, is.Number)
				}
			}
		})
	}
}

func TestReportScoreStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		before    func(st *cxv1.CustomerJourneyStatus)
		wantEvent bool
	}{
		{"first scored: an Event", func(st *cxv1.CustomerJourneyStatus) { st.Summary, st.HealthScore = nil, nil }, true},
		{"figures unchanged: no Event", nil, false},
		{"health changed: an Event", func(st *cxv1.CustomerJourneyStatus) { st.HealthScore = ptr.To(*st.HealthScore + 1) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newJourneyStepRig(t, clock.RealClock{})
			cj := stepJourney(t)
			s := newJourneyState(cj)
			s.m = journeyMap(&cj.Spec)
			scoreMap(cj, s.m, nil)
			if tc.before == nil {
				s.persisted.Status = *cj.Status.DeepCopy()
			} else {
				prev := cj.Status.DeepCopy()
				tc.before(prev)
				s.persisted.Status = *prev
			}
			// scoreJourney finds the news, reportScore says Ready.
			if res, err := rig.r.scoreJourney(context.Background(), s); err != nil || res != (steps.Result{}) {
				t.Fatalf("score: result %v, %v", res, err)
			}
			res, err := rig.r.reportScore(context.Background(), s)
			if err != nil || res != (steps.Result{}) {
				t.Fatalf("result %v, %v", res, err)
			}
			if kind, reason := verdictOf(s.ready); kind != "ready" || reason != cxv1.ReasonMapScored || !strings.Contains(s.ready.ready.Message, "touchpoints on") {
				t.Errorf("verdict %+v, want ready MapScored with the figures", s.ready)
			}
			evs := rig.told(s)
			if got := len(evs) == 1 && strings.Contains(evs[0], "Normal MapScored"); got != tc.wantEvent || len(evs) > 1 {
				t.Errorf("events %q, want a MapScored Event: %v", evs, tc.wantEvent)
			}
		})
	}
}

func TestTrackerFailure(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		err         error
		want        time.Duration
		wantErr     bool
		cond        string // the condition the failure sets
		condStatus  metav1.ConditionStatus
		reason      string
		wantVerdict string
		wantEvent   string // Event type, "" for none
	}{
		{"cxloop's own write budget: waits, not a failure", &tracker.RateLimitError{ResumeAt: at.Add(30 * time.Minute), Budget: true, Message: "write budget spent"},
			30 * time.Minute, false, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonWriteBudget, "", ""},
		{"GitHub's rate limit: waits until it ends, Reconciling", &tracker.RateLimitError{ResumeAt: at.Add(10 * time.Minute)},
			10 * time.Minute, false, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonRateLimited, "reconciling", corev1.EventTypeWarning},
		{"a Secret not applied yet: Reconciling", &TrackerConfigError{Reason: cxv1.ReasonSecretNotFound, Message: "apply it", Waiting: true},
			time.Minute, false, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cxv1.ReasonSecretNotFound, "reconciling", corev1.EventTypeNormal},
		{"a configuration a person must fix: Stalled", &TrackerConfigError{Reason: cxv1.ReasonHostNotAllowed, Message: "not there"},
			time.Minute, false, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cxv1.ReasonHostNotAllowed, "stalled", corev1.EventTypeWarning},
		{"a missing permission: Stalled", &tracker.APIError{StatusCode: http.StatusForbidden, Reason: cxv1.ReasonForbidden, Message: "no"},
			5 * time.Minute, false, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cxv1.ReasonGitHubPermissionDenied, "stalled", corev1.EventTypeWarning},
		{"a refusal that will not change: Stalled", &tracker.APIError{StatusCode: http.StatusNotFound, Reason: cxv1.ReasonRepositoryNotFound, Message: "no"},
			5 * time.Minute, false, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cxv1.ReasonRepositoryNotFound, "stalled", corev1.EventTypeWarning},
		{"an outage: Reconciling, the error returned", &tracker.APIError{StatusCode: http.StatusBadGateway, Reason: cxv1.ReasonServerError, Message: "down"},
			0, true, cxv1.ConditionTrackerReady, metav1.ConditionFalse, cxv1.ReasonServerError, "reconciling", corev1.EventTypeWarning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := events.NewFakeRecorder(10)
			cj := stepJourney(t)
			var rd readiness
			res, err := trackerFailure(rec, clocktesting.NewFakePassiveClock(at), cj, &cj.Status.Conditions, cj.Generation, tc.err, &rd)
			if res.RequeueAfter != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("result %v, %v; want a requeue after %s", res, err, tc.want)
			}
			if c := conditionOf(cj.Status.Conditions, tc.cond); c == nil || c.Status != tc.condStatus || c.Reason != tc.reason {
				t.Errorf("%s = %+v, want %s %s", tc.cond, c, tc.condStatus, tc.reason)
			}
			if kind, reason := verdictOf(rd); kind != tc.wantVerdict || kind != "" && reason != tc.reason {
				t.Errorf("verdict %s %s, want %s %s", kind, reason, tc.wantVerdict, tc.reason)
			}
			if c := conditionOf(cj.Status.Conditions, cxv1.ConditionReady); c != nil {
				t.Errorf("trackerFailure wrote Ready %+v: that is summarizeReady's", c)
			}
			evs := rec.Events
			switch {
			case tc.wantEvent == "" && len(evs) > 0:
				t.Errorf("an Event %q", <-evs)
			case tc.wantEvent != "" && (len(evs) != 1 || !strings.HasPrefix(<-evs, tc.wantEvent+" "+tc.reason)):
				t.Errorf("want one %s Event %s", tc.wantEvent, tc.reason)
			}
		})
	}
}

func TestGitHubRetries(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	outage := &tracker.APIError{StatusCode: http.StatusBadGateway, Reason: cxv1.ReasonServerError, Message: "down"}
	for _, tc := range []struct {
		name     string
		history  []error // nil: a run GitHub answered
		last     error
		limit    time.Duration
		min, max time.Duration
		wantErr  bool
	}{
		{"the first outage: about a second", nil, outage, time.Hour, time.Second, 1200 * time.Millisecond, false},
		{"the third in a row: about 4 seconds", []error{outage, outage}, outage, time.Hour, 4 * time.Second, 4800 * time.Millisecond, false},
		{"capped at the limit", []error{outage, outage, outage, outage}, outage, 3 * time.Second, 3 * time.Second, 3 * time.Second, false},
		{"capped at 5 minutes", []error{outage, outage, outage, outage, outage, outage, outage, outage, outage, outage}, outage, time.Hour, lastRetry, lastRetry, false},
		{"after GitHub answered, from the start", []error{outage, outage, outage, nil}, outage, time.Hour, time.Second, 1200 * time.Millisecond, false},
		{"a rate limit waits for GitHub's word", []error{outage}, &tracker.RateLimitError{ResumeAt: at.Add(10 * time.Minute)}, time.Hour, 10 * time.Minute, 10 * time.Minute, false},
		{"the API server's failure goes to the workqueue", nil, apierrors.NewInternalError(errors.New("etcd")), time.Hour, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(at)
			var g githubRetries
			cj := stepJourney(t)
			retry := func(err error) (time.Duration, readiness, error) {
				var rd readiness
				res, err := g.retry(events.NewFakeRecorder(10), clk, "journey/ns/a", tc.limit, cj, &cj.Status.Conditions, cj.Generation, err, &rd)
				return res.RequeueAfter, rd, err
			}
			for _, err := range tc.history {
				if err == nil {
					g.succeeded(clk, "journey/ns/a")
					continue
				}
				if _, _, err := retry(err); err != nil {
					t.Fatal(err)
				}
			}
			wait, rd, err := retry(tc.last)
			if wait < tc.min || wait > tc.max || (err != nil) != tc.wantErr {
				t.Errorf("wait %s, %v; want %s to %s", wait, err, tc.min, tc.max)
			}
			if kind, _ := verdictOf(rd); kind != "reconciling" {
				t.Errorf("verdict %s, want reconciling", kind)
			}
			// Another object's failures are its own.
			var rd2 readiness
			other, _ := g.retry(events.NewFakeRecorder(10), clk, "journey/ns/b", time.Hour, cj, &cj.Status.Conditions, cj.Generation, outage, &rd2)
			if other.RequeueAfter > 1200*time.Millisecond {
				t.Errorf("another journey waits %s after its first outage", other.RequeueAfter)
			}
		})
	}
}

// TestJourneyReconcileSummarisesReady: Reconcile runs the steps and writes
// Ready, Reconciling and Stalled once, from their verdicts, with the status.
func TestJourneyReconcileSummarisesReady(t *testing.T) {
	gh := githubServer(t)
	for _, tc := range []struct {
		name            string
		edit            func(*cxv1.CustomerJourney)
		ready           metav1.ConditionStatus
		reason          string
		reconciling     bool
		stalled         bool
		requeueAtLeast  time.Duration
		requeueAtMost   time.Duration
		wantHealthScore bool
	}{
		{"untracked, no review: Ready, scored, nothing to look at again", func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker, cj.Spec.Review = nil, nil },
			metav1.ConditionTrue, cxv1.ReasonMapScored, false, false, 0, 0, true},
		{"tracked: Ready, GitHub looked at again within the sync interval", func(cj *cxv1.CustomerJourney) { cj.Spec.Review = nil },
			metav1.ConditionTrue, cxv1.ReasonMapScored, false, false, journeySyncInterval, journeySyncInterval * 11 / 10, true},
		{"a bad schedule: Stalled, still scored", func(cj *cxv1.CustomerJourney) { cj.Spec.Review.Schedule = "every tuesday" },
			metav1.ConditionFalse, cxv1.ReasonInvalidSchedule, false, true, 0, 0, true},
		{"the Secret not applied yet: Reconciling, retried in a minute", func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.SecretRef.Name = "later" },
			metav1.ConditionFalse, cxv1.ReasonSecretNotFound, true, false, time.Minute, time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig, cj := trackedRig(t, clock.RealClock{}, gh, tc.edit)
			key := client.ObjectKeyFromObject(cj)
			res, err := rig.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
			if err != nil || res.RequeueAfter < tc.requeueAtLeast || res.RequeueAfter > tc.requeueAtMost {
				t.Errorf("result %v, %v; want a requeue within [%s, %s]", res, err, tc.requeueAtLeast, tc.requeueAtMost)
			}
			var got cxv1.CustomerJourney
			if err := rig.c.Get(context.Background(), key, &got); err != nil {
				t.Fatal(err)
			}
			conds := got.Status.Conditions
			if c := conditionOf(conds, cxv1.ConditionReady); c == nil || c.Status != tc.ready || c.Reason != tc.reason || c.ObservedGeneration != got.Generation {
				t.Errorf("Ready %+v, want %s %s at generation %d", c, tc.ready, tc.reason, got.Generation)
			}
			if got := conditionOf(conds, cxv1.ConditionReconciling) != nil; got != tc.reconciling {
				t.Errorf("Reconciling present %v, want %v", got, tc.reconciling)
			}
			if got := conditionOf(conds, cxv1.ConditionStalled) != nil; got != tc.stalled {
				t.Errorf("Stalled present %v, want %v", got, tc.stalled)
			}
			if (got.Status.HealthScore != nil) != tc.wantHealthScore || got.Status.ObservedGeneration != got.Generation {
				t.Errorf("health %v, observed generation %d of %d", got.Status.HealthScore, got.Status.ObservedGeneration, got.Generation)
			}
		})
	}
}
