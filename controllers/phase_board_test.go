package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/openapicheck"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// The product owner's board: a journey naming a GitHub Project gets every
// issue of its phases on it, with cxloop's fields, through a local GitHub
// whose every board request and answer is checked against GitHub's
// OpenAPI description.

const boardSpecPath = "../testdata/github/openapi/api.github.com.subset.json"

// validatedGitHub is githubServer behind an OpenAPI validator of the
// board's endpoints; a request or answer that breaks the schema fails the
// test.
func validatedGitHub(t *testing.T) (*localgithub.Server, *openapicheck.Validator) {
	t.Helper()
	v, err := openapicheck.New(boardSpecPath, openapicheck.BoardPaths)
	if err != nil {
		t.Fatal(err)
	}
	hs, serve := v.Serve(t)
	gh, err := localgithub.New(localgithub.Options{BaseURL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	gh.AddRepo(ghOwner, ghRepo)
	gh.AddToken(ghToken)
	serve(gh.Handler())
	allowLocalGitHub(gh)
	return gh, v
}

// boardJourney is the sample journey on gh with project number of the
// repository's owner as its board, and one Improve phase of its own (no
// Discovery before it), which opens the four quick wins.
func boardJourney(t *testing.T, gh *localgithub.Server, project int) (ns string, cj *cxv1.CustomerJourney) {
	t.Helper()
	ns = namespace(t)
	cj = trackedJourney(t, ns, gh)
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		cj.Spec.Tracker.GitHub.Project = cxv1.GitHubProject{Owner: ghOwner, Number: int32(project)}
	})
	for _, ph := range samplePhases(t, ns) {
		if ph.Spec.Type != cxv1.PhaseImprove {
			continue
		}
		ph.Spec.After = ""
		ph.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour} // map changes drive it
		if err := k8sClient.Create(context.Background(), ph); err != nil {
			t.Fatal(err)
		}
	}
	return ns, cj
}

// boardByIssue is the project's items by issue number.
func boardByIssue(g Gomega, gh *localgithub.Server, project int) map[int]localgithub.ProjectItem {
	items, err := gh.ProjectItems(ghOwner, true, project)
	g.Expect(err).NotTo(HaveOccurred())
	out := map[int]localgithub.ProjectItem{}
	for _, it := range items {
		out[it.Number] = it
	}
	return out
}

func TestBoardHoldsEveryIssueWithItsContext(t *testing.T) {
	g := eventually(t)
	gh, v := validatedGitHub(t)
	project := gh.AddProject(ghOwner, true, "Nature park board")
	startCxloop(t)
	ns, cj := boardJourney(t, gh, project)

	quickWins := map[string]map[string]string{
		"painpoint/family-info-hidden": {"Phase": "Improve", "Stage": "inspiration", "Persona": "family", "Channel": "web", "Impact": "5", "Effort": "1", "Quick win": "Yes"},
		"painpoint/app-offline-maps":   {"Phase": "Improve", "Stage": "planning", "Persona": "day-hiker", "Channel": "mobile-app", "Impact": "5", "Effort": "2", "Quick win": "Yes"},
		"painpoint/no-route-planner":   {"Phase": "Improve", "Stage": "inspiration", "Persona": "day-hiker", "Channel": "web", "Impact": "4", "Effort": "2", "Quick win": "Yes"},
		"painpoint/faded-markers":      {"Phase": "Improve", "Stage": "visit", "Channel": "signage", "Quick win": "Yes"},
	}
	var ph *cxv1.ImprovementPhase
	g.Eventually(func(g Gomega) {
		ph = getPhase(g, ns, "nature-park-improve")
		g.Expect(ph.Status.Items).To(HaveLen(len(quickWins)))
		board := boardByIssue(g, gh, project)
		g.Expect(board).To(HaveLen(len(quickWins)))
		for _, it := range ph.Status.Items {
			g.Expect(it.Board.State).To(Equal(cxv1.BoardItemOnBoard), it.Key)
			item, ok := board[int(it.Issue)]
			g.Expect(ok).To(BeTrue(), "issue #%d of %s is on the board", it.Issue, it.Key)
			g.Expect(it.Board.ItemID).To(Equal(item.ID))
			for field, want := range quickWins[it.Key] {
				g.Expect(item.Values).To(HaveKeyWithValue(field, want), "%s of %s", field, it.Key)
			}
		}
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionBoardReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(cxv1.ReasonBoardSynced))
	}).Should(Succeed())

	fields, err := gh.ProjectFields(ghOwner, true, project)
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range tracker.BoardFields {
		g.Expect(fields).To(ContainElement(f.Name), "cxloop's field %s was created", f.Name)
	}
	g.Expect(fields).To(ContainElements("Title", "Status"), "the board's own fields stay")

	// The team moves one issue on its board and takes another off it; then
	// the map changes the impact and effort of both.
	family, planner := itemIssue(ph, "painpoint/family-info-hidden"), itemIssue(ph, "painpoint/no-route-planner")
	repo := ghOwner + "/" + ghRepo
	g.Expect(gh.SetProjectItemValue(ghOwner, true, project, repo, family, "Status", "In Progress")).To(Succeed())
	g.Expect(gh.RemoveProjectItem(ghOwner, true, project, repo, planner)).To(Succeed())
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		for s := range cj.Spec.Stages {
			for t := range cj.Spec.Stages[s].Touchpoints {
				pps := cj.Spec.Stages[s].Touchpoints[t].PainPoints
				for i := range pps {
					switch pps[i].ID {
					case "family-info-hidden":
						pps[i].Impact = 4
					case "no-route-planner":
						pps[i].Effort = 1
					}
				}
			}
		}
	})
	g.Eventually(func(g Gomega) {
		board := boardByIssue(g, gh, project)
		g.Expect(board[family].Values).To(HaveKeyWithValue("Impact", "4"), "cxloop keeps its own field current")
		g.Expect(board[family].Values).To(HaveKeyWithValue("Status", "In Progress"), "the team's field is theirs")
		ph := getPhase(g, ns, "nature-park-improve")
		for _, it := range ph.Status.Items {
			if it.Key == "painpoint/no-route-planner" {
				g.Expect(it.Board.State).To(Equal(cxv1.BoardItemRemoved))
			}
		}
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(boardByIssue(g, gh, project)).NotTo(HaveKey(planner), "a removed item stays removed")
		g.Expect(boardByIssue(g, gh, project)).To(HaveLen(len(quickWins) - 1))
	}, 3*time.Second, 300*time.Millisecond).Should(Succeed())

	for _, op := range []string{"projects/add-item-for-org", "projects/update-item-for-org"} {
		requests, answers := v.Validated(op)
		g.Expect(requests).To(BeNumerically(">", 0), "%s was validated", op)
		g.Expect(answers).To(BeNumerically(">", 0), "%s was validated", op)
	}
	lists, _ := v.Validated("projects/list-items-for-org")
	g.Expect(lists).To(BeZero(), "the board was listed to add or update its items")
}

func TestBoardWithoutPermissionStillOpensIssues(t *testing.T) {
	g := eventually(t)
	gh, _ := validatedGitHub(t)
	project := gh.AddProject(ghOwner, true, "Nature park board")
	gh.DenyProjects(ghToken, true)
	startCxloop(t)
	ns, _ := boardJourney(t, gh, project)

	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-improve")
		g.Expect(openCount(issuesOf(gh, "phase:improve"))).To(Equal(4), "issues open without the board")
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionBoardReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(cxv1.ReasonPermissionMissing))
		g.Expect(c.Message).To(And(ContainSubstring("spec.tracker.github.project"), ContainSubstring("project scope")))
		ready := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "the board holds nothing back")
	}).Should(Succeed())
	items, err := gh.ProjectItems(ghOwner, true, project)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(items).To(BeEmpty())

	// The permission granted, the next sync puts the issues on the board.
	gh.DenyProjects(ghToken, false)
	updatePhase(t, ns, "nature-park-improve", func(ph *cxv1.ImprovementPhase) {
		ph.Spec.SyncInterval = &metav1.Duration{Duration: 2 * time.Second}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(boardByIssue(g, gh, project)).To(HaveLen(4))
		c := meta.FindStatusCondition(getPhase(g, ns, "nature-park-improve").Status.Conditions, cxv1.ConditionBoardReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonBoardSynced))
	}).Should(Succeed())
}

// TestBoardFailingHoldsNoCompletion: a board GitHub keeps failing holds
// back neither the phase's issues nor its completion (the phases after it
// wait on that); the completed phase puts its issues on the board once
// GitHub takes them.
func TestBoardFailingHoldsNoCompletion(t *testing.T) {
	g := eventually(t)
	gh, _ := validatedGitHub(t)
	project := gh.AddProject(ghOwner, true, "Nature park board")
	gh.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/" + ghOwner + "/projectsV2/*/items", Kind: localgithub.ServerError, Status: 502, Times: -1})
	startCxloop(t)
	ns, _ := boardJourney(t, gh, project)
	updatePhase(t, ns, "nature-park-improve", func(ph *cxv1.ImprovementPhase) {
		ph.Spec.SyncInterval = &metav1.Duration{Duration: 2 * time.Second}
	})

	g.Eventually(func(g Gomega) {
		g.Expect(openCount(issuesOf(gh, "phase:improve"))).To(Equal(4), "issues open while the board fails")
		c := meta.FindStatusCondition(getPhase(g, ns, "nature-park-improve").Status.Conditions, cxv1.ConditionBoardReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonServerError))
	}).Should(Succeed())
	for _, is := range issuesOf(gh, "phase:improve") {
		g.Expect(gh.CloseIssue(ghOwner, ghRepo, is.Number, "completed")).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-improve")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseCompleted), "its issues closed, the phase completes although the board fails")
		g.Expect(boardByIssue(g, gh, project)).To(BeEmpty())
	}).Should(Succeed())

	gh.ClearFaults()
	g.Eventually(func(g Gomega) {
		g.Expect(boardByIssue(g, gh, project)).To(HaveLen(4), "the completed phase puts its issues on the board")
		conds := getPhase(g, ns, "nature-park-improve").Status.Conditions
		c := meta.FindStatusCondition(conds, cxv1.ConditionBoardReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonBoardSynced))
		g.Expect(conditions.IsTrue(conds, cxv1.ConditionTrackerReady)).To(BeTrue(), "GitHub answers again: %v", meta.FindStatusCondition(conds, cxv1.ConditionTrackerReady))
		g.Expect(conditions.IsTrue(conds, cxv1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())
}

func TestPhaseSyncBoardStep(t *testing.T) {
	gh := githubServer(t)
	oldBoard := gh.AddProject(ghOwner, true, "Last year's board")
	project := gh.AddProject(ghOwner, true, "Board")
	ctx := context.Background()
	newTracker := func(t *testing.T) tracker.Tracker {
		tr, err := tracker.New(tracker.Config{Owner: ghOwner, Repo: ghRepo, APIURL: gh.URL(), Credentials: tracker.Credentials{Token: ghToken},
			WritesPerMinute: 600, WritesPerHour: 10000})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	var numbers []int
	tr := newTracker(t)
	for _, key := range []string{"a", "b", "c"} {
		is, _, err := tr.EnsureIssue(ctx, tracker.IssueRequest{Key: "ns/shop/painpoint/" + key, Title: "Pain point " + key, Body: "Work."})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, is.Number)
	}
	withProject := func(number int) *cxv1.CustomerJourney {
		cj := shopJourney()
		cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{Owner: ghOwner, Repo: ghRepo, APIURL: gh.URL()}}
		cj.Spec.Tracker.GitHub.Project = cxv1.GitHubProject{Owner: ghOwner, Number: int32(number)}
		return cj
	}
	openItems := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseActive
		ph.Status.Items = []cxv1.PhaseItem{
			{Key: "painpoint/a", State: cxv1.ItemOpen, Issue: int64(numbers[0])},
			{Key: "painpoint/b", State: cxv1.ItemClosed, Issue: int64(numbers[1]), Outcome: &cxv1.ItemOutcome{Verdict: cxv1.VerdictImproved}},
			{Key: "painpoint/c", State: cxv1.ItemPlanned},
		}
	}
	prepare := func(cj *cxv1.CustomerJourney) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.cj, run.tr = cj, newTracker(t)
			run.work = workByKey([]workitem.Item{
				{Key: "painpoint/a", Board: workitem.Board{Phase: "Improve", Stage: "browse", Impact: 5, Effort: 1, QuickWin: "Yes"}},
				{Key: "painpoint/b", Board: workitem.Board{Phase: "Improve", Stage: "pay", Impact: 4}},
			})
		}
	}
	boardOf := func(t *testing.T) map[int]localgithub.ProjectItem {
		items, err := gh.ProjectItems(ghOwner, true, project)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]localgithub.ProjectItem{}
		for _, it := range items {
			out[it.Number] = it
		}
		return out
	}
	// aValues is the digest of the first item's values; synced records it
	// on the board with them, and the second item removed by a person.
	aValues := valuesDigest(workitem.Board{Phase: "Improve", Stage: "browse", Impact: 5, Effort: 1, QuickWin: "Yes"}.Values())
	synced := func(ph *cxv1.ImprovementPhase) {
		openItems(ph)
		ph.Status.Items[0].Board = cxv1.ItemBoard{State: cxv1.BoardItemOnBoard, ItemID: boardOf(t)[numbers[0]].ID, Values: aValues}
		ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
	}
	runPhaseStepCases(t, "syncBoard", []phaseStepCase{
		{name: "no project: no condition, nothing sent", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			conditions.Set(&ph.Status.Conditions, 1, cxv1.ConditionBoardReady, metav1.ConditionTrue, cxv1.ReasonBoardSynced, "from an earlier project")
		}, prepare: prepare(shopJourney()), wantConds: map[string]string{cxv1.ConditionBoardReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if len(boardOf(t)) != 0 {
					t.Errorf("items on a board no journey names")
				}
			}},
		{name: "moved to an unknown project: ProjectNotFound, records kept", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
			ph.Status.Board = cxv1.GitHubProject{Owner: ghOwner, Number: int32(project)}
		}, prepare: prepare(withProject(99)),
			wantConds: map[string]string{cxv1.ConditionBoardReady: "False/" + cxv1.ReasonProjectNotFound, cxv1.ConditionReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if b := run.ph.Status.Board; int(b.Number) != project || run.ph.Status.Items[1].Board.State != cxv1.BoardItemRemoved {
					t.Errorf("status.board %+v, item %+v: a project not found cleared the records of the one before", b, run.ph.Status.Items[1].Board)
				}
			}},
		{name: "an unknown project: ProjectNotFound, issues untouched", edit: openItems, prepare: prepare(withProject(99)),
			wantConds: map[string]string{cxv1.ConditionBoardReady: "False/" + cxv1.ReasonProjectNotFound, cxv1.ConditionReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if run.githubErr != nil {
					t.Errorf("a project to fix is no GitHub failure to back off from: %v", run.githubErr)
				}
			}},
		{name: "adds the issues with their values and outcome", edit: openItems, prepare: prepare(withProject(project)),
			wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced},
			check: func(t *testing.T, run *phaseRun) {
				board := boardOf(t)
				if len(board) != 2 {
					t.Fatalf("board %v, want the two issues (the planned item has none)", board)
				}
				a, b := board[numbers[0]], board[numbers[1]]
				if a.Values["Stage"] != "browse" || a.Values["Impact"] != "5" || a.Values["Quick win"] != "Yes" || b.Values["Outcome"] != "Improved" {
					t.Errorf("values %v and %v", a.Values, b.Values)
				}
				for _, it := range run.ph.Status.Items[:2] {
					if it.Board.State != cxv1.BoardItemOnBoard || it.Board.ItemID == 0 || it.Board.Values == "" {
						t.Errorf("%s board status %+v", it.Key, it.Board)
					}
				}
				if run.ph.Status.Items[2].Board.State != "" {
					t.Errorf("a planned item is on the board: %+v", run.ph.Status.Items[2].Board)
				}
			}},
		{name: "unchanged: nothing sent", edit: func(ph *cxv1.ImprovementPhase) {
			synced(ph)
			ph.Status.Board = cxv1.GitHubProject{Owner: ghOwner, Number: int32(project)}
		}, prepare: func(run *phaseRun) {
			prepare(withProject(project))(run)
			run.tr = nil // any request would fail
		}, wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced}},
		{name: "records from before status.board: taken to be of the journey's project once it is found", edit: synced, prepare: prepare(withProject(project)), wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced},
			check: func(t *testing.T, run *phaseRun) {
				if b := run.ph.Status.Board; b.Owner != ghOwner || int(b.Number) != project {
					t.Errorf("status.board = %+v, want the journey's project", b)
				}
				if run.ph.Status.Items[1].Board.State != cxv1.BoardItemRemoved || run.ph.Status.Items[0].Board.ItemID != boardOf(t)[numbers[0]].ID {
					t.Errorf("records %+v, %+v changed", run.ph.Status.Items[0].Board, run.ph.Status.Items[1].Board)
				}
			}},
		{name: "records from before status.board, and a project not found: nothing changes", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
		}, prepare: prepare(withProject(99)),
			wantConds: map[string]string{cxv1.ConditionBoardReady: "False/" + cxv1.ReasonProjectNotFound, cxv1.ConditionReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if b := run.ph.Status.Board; b.Number != 0 || run.ph.Status.Items[1].Board.State != cxv1.BoardItemRemoved {
					t.Errorf("status.board %+v, item %+v: taken to be of a project not found", b, run.ph.Status.Items[1].Board)
				}
			}},
		{name: "the journey moved to another project: its issues are added there", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			// Records of the old board: on it, values set, an item ID this board does not have.
			ph.Status.Items[0].Board = cxv1.ItemBoard{State: cxv1.BoardItemOnBoard, ItemID: 999999, Values: aValues}
			ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
			ph.Status.Board = cxv1.GitHubProject{Owner: ghOwner, Number: int32(oldBoard)}
		}, prepare: prepare(withProject(project)), wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced},
			check: func(t *testing.T, run *phaseRun) {
				board := boardOf(t)
				for i, it := range run.ph.Status.Items[:2] {
					if it.Board.State != cxv1.BoardItemOnBoard || it.Board.ItemID != board[numbers[i]].ID {
						t.Errorf("%s board status %+v, want on the new board as item %d", it.Key, it.Board, board[numbers[i]].ID)
					}
				}
				if b := run.ph.Status.Board; int(b.Number) != project {
					t.Errorf("status.board = %+v, want project %d", b, project)
				}
			}},
		{name: "recorded without its item's ID: the add finds it there, values set", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			ph.Status.Items[0].Board = cxv1.ItemBoard{State: cxv1.BoardItemOnBoard, Values: "changed"}
			ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
		}, prepare: prepare(withProject(project)), wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced},
			check: func(t *testing.T, run *phaseRun) {
				if b := run.ph.Status.Items[0].Board; b.State != cxv1.BoardItemOnBoard || b.ItemID != boardOf(t)[numbers[0]].ID || b.Values != aValues {
					t.Errorf("board status %+v, want the item's ID and the values' digest", b)
				}
				if len(boardOf(t)) != 2 {
					t.Errorf("board %v, want the same two items", boardOf(t))
				}
			}},
		{name: "a removed item stays removed", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			removed := boardOf(t)[numbers[1]].ID
			if err := gh.RemoveProjectItem(ghOwner, true, project, ghOwner+"/"+ghRepo, numbers[1]); err != nil {
				t.Fatal(err)
			}
			ph.Status.Items[1].Board = cxv1.ItemBoard{State: cxv1.BoardItemOnBoard, ItemID: removed, Values: "changed"}
		}, prepare: prepare(withProject(project)), wantConds: map[string]string{cxv1.ConditionBoardReady: "True/" + cxv1.ReasonBoardSynced},
			wantEvents: []string{cxv1.ReasonBoardItemRemoved},
			check: func(t *testing.T, run *phaseRun) {
				if _, ok := boardOf(t)[numbers[1]]; ok {
					t.Errorf("the removed item was added again")
				}
				if run.ph.Status.Items[1].Board.State != cxv1.BoardItemRemoved {
					t.Errorf("board status %+v, want Removed", run.ph.Status.Items[1].Board)
				}
			}},
		{name: "no permission: PermissionMissing, no backoff", edit: func(ph *cxv1.ImprovementPhase) {
			openItems(ph)
			gh.DenyProjects(ghToken, true)
		}, prepare: prepare(withProject(project)), wantConds: map[string]string{cxv1.ConditionBoardReady: "False/" + cxv1.ReasonPermissionMissing},
			check: func(t *testing.T, run *phaseRun) {
				gh.DenyProjects(ghToken, false)
				c := conditionOf(run.ph.Status.Conditions, cxv1.ConditionBoardReady)
				if !strings.Contains(c.Message, "spec.tracker.github.project") || !strings.Contains(c.Message, "project scope") {
					t.Errorf("message %q names neither the field nor the permission", c.Message)
				}
				if run.githubErr != nil {
					t.Errorf("a permission to grant is no GitHub failure to back off from: %v", run.githubErr)
				}
			}},
	})
}
