package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
)

// Phases as parent issues: each phase that opens work has one parent issue
// whose sub-issues are its issues; a phase waiting for another has its
// parent blocked by the earlier one's; issue types follow the journey's
// mapping where the organisation defines them. Every request to these
// endpoints and every answer is checked against GitHub's OpenAPI
// description.

// parentsJourney is the sample journey on gh with parent issues and the
// issue types given, and the sample phases (Discovery, then Improve after
// it, ...), driven by map changes and webhooks rather than polling.
func parentsJourney(t *testing.T, gh *localgithub.Server, types cxv1.IssueTypeMapping, project int) (ns string, cj *cxv1.CustomerJourney) {
	t.Helper()
	ns = namespace(t)
	cj = trackedJourney(t, ns, gh)
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		cj.Spec.Tracker.GitHub.ParentIssues = ptrTo(true)
		cj.Spec.Tracker.GitHub.IssueTypes = types
		cj.Spec.Tracker.GitHub.Project = cxv1.GitHubProject{Owner: ghOwner, Number: int32(project)}
	})
	for _, ph := range samplePhases(t, ns) {
		ph.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour}
		if err := k8sClient.Create(context.Background(), ph); err != nil {
			t.Fatal(err)
		}
	}
	return ns, cj
}

// issuesTitled counts the repository's issues whose title starts with prefix.
func issuesTitled(gh *localgithub.Server, prefix string) []localgithub.Issue {
	var out []localgithub.Issue
	for _, is := range gh.Issues(ghOwner, ghRepo) {
		if strings.HasPrefix(is.Title, prefix) {
			out = append(out, is)
		}
	}
	return out
}

func relationsOf(g Gomega, gh *localgithub.Server, number int64) localgithub.IssueRelations {
	rel, err := gh.Relations(ghOwner, ghRepo, int(number))
	g.Expect(err).NotTo(HaveOccurred())
	return rel
}

// itemNumbers are the issue numbers of the phase's items that have one.
func itemNumbers(ph *cxv1.ImprovementPhase) []int {
	var out []int
	for _, it := range ph.Status.Items {
		if it.Issue != 0 {
			out = append(out, int(it.Issue))
		}
	}
	return out
}

func TestPhaseParentsHoldTheirWorkAndWaitOnEachOther(t *testing.T) {
	g := eventually(t)
	gh, v := validatedGitHub(t)
	gh.SetIssueTypes(ghOwner, "Task", "Feature", "Bug")
	cx := startCxloop(t)
	gh.SetWebhook(cx.webhookURL+"/github/webhook", webhookSecret)
	project := gh.AddProject(ghOwner, true, "Nature park board")
	// Epic is not a type of the organisation: parents keep to labels.
	ns, cj := parentsJourney(t, gh, cxv1.IssueTypeMapping{Discovery: "Task", Improve: "Feature", Parent: "Epic"}, project)

	// Discovery opens its gaps under its parent; Improve, waiting for it,
	// has a parent already, blocked by Discovery's.
	var discovery, improve *cxv1.ImprovementPhase
	g.Eventually(func(g Gomega) {
		discovery = getPhase(g, ns, "nature-park-discovery")
		g.Expect(itemNumbers(discovery)).To(HaveLen(2))
		g.Expect(discovery.Status.Parent).NotTo(BeNil())
		g.Expect(discovery.Status.Parent.Issue).NotTo(BeZero())
		rel := relationsOf(g, gh, discovery.Status.Parent.Issue)
		g.Expect(rel.SubIssues).To(ConsistOf(itemNumbers(discovery)))
		g.Expect(rel.Type).To(BeEmpty(), "Epic is not defined: no type")
		for _, n := range itemNumbers(discovery) {
			r := relationsOf(g, gh, int64(n))
			g.Expect(r.Type).To(Equal("Task"), "issue #%d", n)
			g.Expect(r.Parent).To(Equal(int(discovery.Status.Parent.Issue)))
		}
		for _, it := range discovery.Status.Items {
			g.Expect(it.SubIssueOf).To(Equal(discovery.Status.Parent.Issue))
			g.Expect(it.IssueType).To(Equal("Task"))
		}

		improve = getPhase(g, ns, "nature-park-improve")
		g.Expect(improve.Status.State).To(Equal(cxv1.PhasePending))
		g.Expect(improve.Status.Parent).NotTo(BeNil())
		g.Expect(improve.Status.Parent.Issue).NotTo(BeZero())
		g.Expect(improve.Status.Parent.BlockedBy).To(Equal(discovery.Status.Parent.Issue))
		g.Expect(relationsOf(g, gh, improve.Status.Parent.Issue).BlockedBy).To(ConsistOf(int(discovery.Status.Parent.Issue)))
	}).Should(Succeed())
	// The board holds the gaps and their parent, each once, with its Phase.
	g.Eventually(func(g Gomega) {
		board := boardByIssue(g, gh, project)
		for _, n := range append(itemNumbers(getPhase(g, ns, "nature-park-discovery")), int(discovery.Status.Parent.Issue)) {
			g.Expect(board).To(HaveKey(n))
			g.Expect(board[n].Values).To(HaveKeyWithValue("Phase", "Discovery"), "issue #%d", n)
		}
	}).Should(Succeed())
	parent := issuesTitled(gh, "Discovery: map gaps of nature-park-visit")
	g.Expect(parent).To(HaveLen(1))
	g.Expect(parent[0].Labels).To(ContainElements("cxloop", "phase:discovery"), "labels stay beside types")
	g.Expect(parent[0].Body).To(ContainSubstring("sub-issues"))

	// Fixing the map completes Discovery: its parent is closed, and Improve
	// opens its quick wins under its own parent, as Features.
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		cj.Spec.Stages[3].Touchpoints[2].Owner = "Partnerships"
		cj.Spec.Stages[2].Touchpoints[0].PainPoints[0].Effort = 3
	})
	g.Eventually(func(g Gomega) {
		discovery = getPhase(g, ns, "nature-park-discovery")
		g.Expect(discovery.Status.State).To(Equal(cxv1.PhaseCompleted))
		g.Expect(discovery.Status.Parent.State).To(Equal(cxv1.ParentIssueClosed))
		g.Expect(issuesTitled(gh, "Discovery: map gaps of")[0].State).To(Equal("closed"))

		improve = getPhase(g, ns, "nature-park-improve")
		g.Expect(improve.Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(itemNumbers(improve)).To(HaveLen(4))
		rel := relationsOf(g, gh, improve.Status.Parent.Issue)
		g.Expect(rel.SubIssues).To(ConsistOf(itemNumbers(improve)))
		for _, n := range itemNumbers(improve) {
			g.Expect(relationsOf(g, gh, int64(n)).Type).To(Equal("Feature"), "issue #%d", n)
		}
	}).Should(Succeed())

	// Perfection waits for Improve: its parent is blocked by Improve's.
	g.Eventually(func(g Gomega) {
		perfection := getPhase(g, ns, "nature-park-perfection")
		g.Expect(perfection.Status.Parent).NotTo(BeNil())
		g.Expect(perfection.Status.Parent.BlockedBy).To(Equal(improve.Status.Parent.Issue))
	}).Should(Succeed())

	// Exactly once: one parent per phase, each issue under one parent once.
	for _, prefix := range []string{"Discovery: map gaps of", "Improve: quick wins of", "Perfection: long-term pain points of"} {
		g.Expect(issuesTitled(gh, prefix)).To(HaveLen(1), prefix)
	}
	boardOnce(g, gh, ghOwner, project)
	g.Expect(v.Problems()).To(BeEmpty())
	for _, op := range []string{"issues/add-sub-issue", "issues/add-blocked-by-dependency", "orgs/list-issue-types", "issues/update"} {
		requests, answers := v.Validated(op)
		g.Expect(requests+answers).To(BeNumerically(">", 0), "%s was validated", op)
	}
}

// boardOnce checks that no issue is on the project twice, and returns how
// many issues are on it.
func boardOnce(g Gomega, gh *localgithub.Server, owner string, project int) int {
	board, err := gh.ProjectItems(owner, true, project)
	g.Expect(err).NotTo(HaveOccurred())
	perIssue := map[int]int{}
	for _, it := range board {
		perIssue[it.Number]++
	}
	for n, count := range perIssue {
		g.Expect(count).To(Equal(1), "issue #%d is on the board %d times", n, count)
	}
	return len(perIssue)
}
