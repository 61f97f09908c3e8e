package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
)

// improveWithOpenItems runs the sample journey's Improve phase on its own
// until its four quick wins are open, and returns the phase.
func improveWithOpenItems(t *testing.T, g Gomega, ns string, gh *localgithub.Server) (*cxv1.CustomerJourney, *cxv1.ImprovementPhase) {
	t.Helper()
	cj := trackedJourney(t, ns, gh)
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	improve.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour}
	g.Expect(k8sClient.Create(context.Background(), improve)).To(Succeed())
	var ph *cxv1.ImprovementPhase
	g.Eventually(func(g Gomega) {
		ph = getPhase(g, ns, improve.Name)
		g.Expect(ph.Status.Items).To(HaveLen(4))
		for _, it := range ph.Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen))
			g.Expect(it.Issue).NotTo(BeZero())
		}
	}).Should(Succeed())
	return cj, ph
}

// TestCopiedMarkerDoesNotMakeItemsObsolete: anyone may open an issue on a
// public repository and copy a real item's hidden marker into it. When
// that issue is deleted or transferred, the real item is untouched: the
// webhook's record names another issue number.
func TestCopiedMarkerDoesNotMakeItemsObsolete(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	gh.AddRepo(ghOwner, "elsewhere")
	cx := startCxloop(t)
	gh.SetWebhook(cx.webhookURL+WebhookPath, webhookSecret)
	ns := namespace(t)
	cj, ph := improveWithOpenItems(t, g, ns, gh)

	stranger := otherGitHubClient(t, gh)
	bodyOf := func(number int64) string {
		for _, is := range gh.Issues(ghOwner, ghRepo) {
			if int64(is.Number) == number {
				return is.Body
			}
		}
		t.Fatalf("no issue #%d", number)
		return ""
	}
	copyOf := func(it cxv1.PhaseItem) int {
		// No label: a stranger cannot set one; the body is a copy.
		is, _, err := stranger.Issues.Create(ctx, ghOwner, ghRepo, &github.IssueRequest{Title: github.String("copy of " + it.Title), Body: github.String(bodyOf(it.Issue))})
		g.Expect(err).NotTo(HaveOccurred())
		return is.GetNumber()
	}
	deleted, transferred := ph.Status.Items[0], ph.Status.Items[1]
	spoof1, spoof2 := copyOf(deleted), copyOf(transferred)
	g.Expect(gh.DeleteIssue(ghOwner, ghRepo, spoof1)).To(Succeed())
	g.Expect(gh.TransferIssue(ghOwner, ghRepo, spoof2, ghOwner, "elsewhere")).To(Succeed())

	// The webhooks arrived and were recorded, with the copies' numbers.
	g.Eventually(func(g Gomega) {
		ann := getJourney(g, client.ObjectKeyFromObject(cj)).Annotations[AnnotationVanishedIssues]
		g.Expect(ann).To(ContainSubstring(fmt.Sprintf(`"number":%d`, spoof1)))
		g.Expect(ann).To(ContainSubstring(fmt.Sprintf(`"number":%d`, spoof2)))
	}).Should(Succeed())
	// A sync after the records: the items still follow their own issues.
	updatePhase(t, ns, ph.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "sync now" })
	g.Eventually(func(g Gomega) {
		p := getPhase(g, ns, ph.Name)
		g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		for _, it := range getPhase(g, ns, ph.Name).Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen), "%s: %s", it.Key, it.Message)
			g.Expect(it.Message).To(BeEmpty())
		}
	}).Should(Succeed())

	// The real issue's deletion still counts.
	g.Expect(gh.DeleteIssue(ghOwner, ghRepo, int(deleted.Issue))).To(Succeed())
	g.Eventually(func(g Gomega) {
		for _, it := range getPhase(g, ns, ph.Name).Status.Items {
			if it.Key == deleted.Key {
				g.Expect(it.State).To(Equal(cxv1.ItemObsolete))
				g.Expect(it.Message).To(ContainSubstring("deleted on GitHub"))
			}
		}
	}).Should(Succeed())
}

// TestForbiddenCloseIsAPhaseCondition: a token downgraded to read-only
// makes GitHub answer 403 to a close. That is the phase's problem, named
// with the permission needed; the item stays as it is (never Obsolete)
// and is closed once the permission is back.
func TestForbiddenCloseIsAPhaseCondition(t *testing.T) {
	g := eventually(t)
	gh := githubServer(t)
	startCxloop(t)
	ns := namespace(t)
	cj, ph := improveWithOpenItems(t, g, ns, gh)
	var route cxv1.PhaseItem
	for _, it := range ph.Status.Items {
		if it.Source.PainPoint == "no-route-planner" {
			route = it
		}
	}
	g.Expect(route.Issue).NotTo(BeZero(), "the route planner's quick win is open")

	gh.SetTokenReadOnly(ghToken, true)
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		tp := &cj.Spec.Stages[0].Touchpoints[3]
		tp.PainPoints = slices.DeleteFunc(tp.PainPoints, func(p cxv1.PainPoint) bool { return p.ID == "no-route-planner" })
	})
	g.Eventually(func(g Gomega) {
		p := getPhase(g, ns, ph.Name)
		c := meta.FindStatusCondition(p.Status.Conditions, cxv1.ConditionTrackerReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonGitHubPermissionDenied))
		g.Expect(c.Message).To(ContainSubstring(fmt.Sprintf("closing issue #%d", route.Issue)))
		g.Expect(c.Message).To(ContainSubstring("Issues permission, read & write"))
		g.Expect(c.Message).NotTo(ContainSubstring("Resource not accessible"), "GitHub's text is not copied")
		t.Logf("condition: %s", c.Message)
	}).Should(Succeed())
	stateOfRoute := func(g Gomega) cxv1.PhaseItem {
		for _, it := range getPhase(g, ns, ph.Name).Status.Items {
			if it.Key == route.Key {
				return it
			}
		}
		g.Expect(false).To(BeTrue(), "the item is gone")
		return cxv1.PhaseItem{}
	}
	g.Consistently(func(g Gomega) {
		it := stateOfRoute(g)
		g.Expect(it.State).To(Equal(cxv1.ItemOpen))
		g.Expect(it.Message).To(BeEmpty())
	}).Should(Succeed())

	// The permission is back: the close goes through on the next try.
	gh.SetTokenReadOnly(ghToken, false)
	updatePhase(t, ns, ph.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "try again" })
	g.Eventually(func(g Gomega) {
		g.Expect(stateOfRoute(g).State).To(Equal(cxv1.ItemObsolete))
		is := issuesOf(gh, "phase:improve")[ns+"/nature-park-visit/"+route.Key]
		g.Expect(is.State).To(Equal("closed"))
		g.Expect(is.StateReason).To(Equal("not_planned"))
		c := meta.FindStatusCondition(getPhase(g, ns, ph.Name).Status.Conditions, cxv1.ConditionTrackerReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}).Should(Succeed())
}
