package controllers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// parentWorld is one case's local GitHub, with three issues of the phase
// already open, and a tracker on it.
type parentWorld struct {
	gh      *localgithub.Server
	tr      *tracker.Client
	numbers []int
}

func newParentWorld(t *testing.T) *parentWorld {
	t.Helper()
	gh := githubServer(t)
	gh.SetIssueTypes(ghOwner, "Task", "Feature")
	tr, err := tracker.New(tracker.Config{Owner: ghOwner, Repo: ghRepo, APIURL: gh.URL(), Credentials: tracker.Credentials{Token: ghToken},
		WritesPerMinute: 600, WritesPerHour: 10000})
	if err != nil {
		t.Fatal(err)
	}
	w := &parentWorld{gh: gh, tr: tr}
	for _, key := range []string{"a", "b", "c"} {
		is, _, err := tr.EnsureIssue(context.Background(), tracker.IssueRequest{Key: "ns/shop/painpoint/" + key, Title: "Pain point " + key, Body: "Work."})
		if err != nil {
			t.Fatal(err)
		}
		w.numbers = append(w.numbers, is.Number)
	}
	return w
}

// parentKey is the tracker key of the step test phase's parent issue.
const parentKey = "ns/shop/phase/improve"

func (w *parentWorld) parents() []localgithub.Issue {
	var out []localgithub.Issue
	for _, is := range w.gh.Issues(ghOwner, ghRepo) {
		if tracker.KeyFromBody(is.Body) == parentKey {
			out = append(out, is)
		}
	}
	return out
}

func (w *parentWorld) relations(t *testing.T, number int) localgithub.IssueRelations {
	t.Helper()
	rel, err := w.gh.Relations(ghOwner, ghRepo, number)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestPhaseSyncParentStep(t *testing.T) {
	var w *parentWorld
	journey := func(parents bool, types cxv1.IssueTypeMapping) *cxv1.CustomerJourney {
		cj := shopJourney()
		cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{Owner: ghOwner, Repo: ghRepo, ParentIssues: ptr.To(parents), IssueTypes: types}}
		return cj
	}
	// The phase has opened two issues (one since closed); a third is planned.
	opened := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseActive
		ph.Status.Items = []cxv1.PhaseItem{
			{Key: "painpoint/a", State: cxv1.ItemOpen, Issue: int64(w.numbers[0])},
			{Key: "painpoint/b", State: cxv1.ItemClosed, Issue: int64(w.numbers[1])},
			{Key: "painpoint/c", State: cxv1.ItemPlanned},
		}
	}
	prepare := func(cj *cxv1.CustomerJourney, more func(run *phaseRun)) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.cj, run.tr = cj, w.tr
			run.pc = (&ImprovementPhaseReconciler{}).phaseContext(run.ph, cj)
			if more != nil {
				more(run)
			}
		}
	}
	// Each case gets a world of its own: edit runs first.
	fresh := func(edit func(ph *cxv1.ImprovementPhase)) func(ph *cxv1.ImprovementPhase) {
		return func(ph *cxv1.ImprovementPhase) {
			w = newParentWorld(t)
			if edit != nil {
				edit(ph)
			}
		}
	}

	runPhaseStepCases(t, "syncParent", []phaseStepCase{
		{name: "neither parents nor types: nothing sent", edit: fresh(opened), prepare: prepare(journey(false, cxv1.IssueTypeMapping{}), nil),
			check: func(t *testing.T, run *phaseRun) {
				if len(w.parents()) != 0 || run.ph.Status.Parent != nil {
					t.Errorf("a parent issue nobody asked for: %v", w.parents())
				}
				for _, r := range w.gh.Requests() {
					if strings.Contains(r.Path, "sub_issues") || strings.Contains(r.Path, "issue-types") {
						t.Errorf("request %s %s", r.Method, r.Path)
					}
				}
			}},
		{name: "nothing opened yet: no parent", edit: fresh(func(ph *cxv1.ImprovementPhase) {
			ph.Status.State = cxv1.PhaseActive
			ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/c", State: cxv1.ItemPlanned}}
		}), prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), nil),
			check: func(t *testing.T, run *phaseRun) {
				if len(w.parents()) != 0 {
					t.Errorf("a parent issue for a phase that opened nothing")
				}
			}},
		{name: "opens the parent, links the opened issues, types them", edit: fresh(opened),
			prepare:    prepare(journey(true, cxv1.IssueTypeMapping{Improve: "Feature", Parent: "Epic"}), nil),
			wantEvents: []string{cxv1.ReasonIssueOpened},
			check: func(t *testing.T, run *phaseRun) {
				parents := w.parents()
				if len(parents) != 1 {
					t.Fatalf("parents %v, want one", parents)
				}
				p := run.ph.Status.Parent
				if p == nil || p.Issue != int64(parents[0].Number) || p.AttemptedAt != nil || p.URL == "" {
					t.Fatalf("status.parent %+v, want #%d recorded and its attempt settled", p, parents[0].Number)
				}
				if want := "Improve: quick wins of shop"; parents[0].Title != want {
					t.Errorf("title %q, want %q", parents[0].Title, want)
				}
				rel := w.relations(t, parents[0].Number)
				if len(rel.SubIssues) != 2 || rel.SubIssues[0] != w.numbers[0] || rel.SubIssues[1] != w.numbers[1] {
					t.Errorf("sub-issues %v, want the two opened issues %v", rel.SubIssues, w.numbers[:2])
				}
				if rel.Type != "" || p.IssueType != "" {
					t.Errorf("parent typed %q (%q): Epic is no type of the organisation", rel.Type, p.IssueType)
				}
				for i, it := range run.ph.Status.Items[:2] {
					if it.SubIssueOf != p.Issue || it.IssueType != "Feature" {
						t.Errorf("item %s: subIssueOf %d, issueType %q", it.Key, it.SubIssueOf, it.IssueType)
					}
					if got := w.relations(t, w.numbers[i]).Type; got != "Feature" {
						t.Errorf("issue #%d has type %q on GitHub", w.numbers[i], got)
					}
				}
				if run.ph.Status.Items[2].SubIssueOf != 0 {
					t.Errorf("the planned item has no issue to link")
				}
			}},
		{name: "a parent listed already (its create's answer was lost): recorded, not opened again", edit: fresh(opened),
			prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), func(run *phaseRun) {
				is, _, err := w.tr.EnsureIssue(context.Background(), tracker.IssueRequest{Key: parentKey, Title: "Improve: quick wins of shop", Body: "Parent."})
				if err != nil {
					t.Fatal(err)
				}
				run.issues = map[string]tracker.Issue{parentKey: is}
			}),
			check: func(t *testing.T, run *phaseRun) {
				if n := len(w.parents()); n != 1 {
					t.Errorf("%d parent issues, want the one that landed", n)
				}
				if p := run.ph.Status.Parent; p == nil || p.Issue != int64(w.parents()[0].Number) {
					t.Errorf("status.parent %+v", p)
				}
			}},
		{name: "an earlier attempt within its grace: waits, sends nothing", edit: fresh(func(ph *cxv1.ImprovementPhase) {
			opened(ph)
			at := metav1.NewTime(stepNow)
			ph.Status.Parent = &cxv1.PhaseParent{AttemptedAt: &at}
		}), prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), nil),
			want: steps.Requeue(exactlyonce.GraceOf(0)),
			check: func(t *testing.T, run *phaseRun) {
				if len(w.parents()) != 0 {
					t.Errorf("a second attempt went out within the first one's grace")
				}
				// The budget's next write was not taken for a write that did
				// not follow: another waiter may send now.
				if d := w.tr.WriteDelay("phase/ns/another"); d > 0 {
					t.Errorf("another phase waits %s: the write budget's turn was taken and left unused", d)
				}
			}},
		{name: "an issue a person gave another parent stays there", edit: fresh(func(ph *cxv1.ImprovementPhase) {
			opened(ph)
			ph.Status.Items = ph.Status.Items[:1]
		}), prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), func(run *phaseRun) {
			other, _, err := w.tr.EnsureIssue(context.Background(), tracker.IssueRequest{Key: "ns/shop/elsewhere", Title: "A person's epic", Body: "Theirs."})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.tr.EnsureSubIssue(context.Background(), other.Number, w.numbers[0]); err != nil {
				t.Fatal(err)
			}
		}),
			wantEvents: []string{cxv1.ReasonIssueOpened, cxv1.ReasonSubIssueLeft},
			check: func(t *testing.T, run *phaseRun) {
				if run.githubErr != nil {
					t.Errorf("a person's parent is no GitHub failure: %v", run.githubErr)
				}
				if it := run.ph.Status.Items[0]; it.SubIssueOf != run.ph.Status.Parent.Issue {
					t.Errorf("the item is not marked done (it would be tried every reconcile): %+v", it)
				}
				if p := w.relations(t, w.numbers[0]).Parent; p == int(run.ph.Status.Parent.Issue) {
					t.Errorf("cxloop took the issue from the person's parent")
				}
			}},
		{name: "the parent was deleted: recorded lost, nothing held back, nothing asked again", edit: fresh(func(ph *cxv1.ImprovementPhase) {
			opened(ph)
			ph.Status.Parent = &cxv1.PhaseParent{Issue: int64(w.numbers[2])}
		}), prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), func(run *phaseRun) {
			if err := w.gh.DeleteIssue(ghOwner, ghRepo, w.numbers[2]); err != nil {
				t.Fatal(err)
			}
		}),
			wantEvents: []string{cxv1.ReasonParentIssueLost},
			check: func(t *testing.T, run *phaseRun) {
				if run.ph.Status.Parent.State != cxv1.ParentIssueLost || run.githubErr != nil {
					t.Fatalf("parent %+v, set aside %v: want lost, and no failure to hold completion", run.ph.Status.Parent, run.githubErr)
				}
				before := len(w.gh.Requests())
				r := &ImprovementPhaseReconciler{Client: nil}
				if r.parentWork(context.Background(), run, nil) {
					t.Errorf("a lost parent still has work")
				}
				if n := len(w.gh.Requests()) - before; n != 0 {
					t.Errorf("%d requests", n)
				}
				if len(w.parents()) != 0 {
					t.Errorf("a new parent was opened for the lost one")
				}
			}},
		{name: "GitHub fails the link: set aside, the rest of the run goes on", edit: fresh(opened),
			prepare: prepare(journey(true, cxv1.IssueTypeMapping{}), func(run *phaseRun) {
				w.gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/*/*/issues/*/sub_issues", Kind: localgithub.ServerError, Status: http.StatusBadGateway, Times: -1})
			}),
			wantEvents: []string{cxv1.ReasonIssueOpened},
			check: func(t *testing.T, run *phaseRun) {
				if run.githubErr == nil {
					t.Errorf("the failure was not set aside for the phase's backoff")
				}
				for _, it := range run.ph.Status.Items {
					if it.SubIssueOf != 0 {
						t.Errorf("item %s marked linked though GitHub failed", it.Key)
					}
				}
			}},
	})
}
