package controllers

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestRenamedRepositoryStillWakes: a journey records its repository's ID;
// after the repository is renamed on GitHub, a signed delivery that names it
// by its new name still wakes the journey's phase (which polls only hourly),
// the journey says that the spec names the old name (a condition and an
// Event naming spec.tracker.github), and cxloop keeps working through
// GitHub's redirects without opening anything twice.
func TestRenamedRepositoryStillWakes(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	cx := startCxloop(t)
	gh.SetWebhook(cx.webhookURL+WebhookPath, webhookSecret)
	ns := namespace(t)

	cj := trackedJourney(t, ns, gh)
	key := client.ObjectKeyFromObject(cj)
	for _, ph := range samplePhases(t, ns) {
		if ph.Spec.Type != cxv1.PhaseDiscovery {
			continue
		}
		ph.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour} // only webhooks drive it
		g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())
	}
	repoID := gh.AddRepo(ghOwner, ghRepo)
	g.Eventually(func(g Gomega) {
		got := getJourney(g, key).Status.GitHubRepository
		g.Expect(got).NotTo(BeNil())
		g.Expect(got.ID).To(Equal(repoID))
		g.Expect(got.FullName).To(Equal(ghOwner + "/" + ghRepo))
		g.Expect(issuesOf(gh, "phase:discovery")).To(HaveLen(2))
		g.Expect(itemStates(getPhase(g, ns, "nature-park-discovery"))).To(HaveLen(2))
	}).Should(Succeed())
	g.Expect(meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionRepositoryRenamed)).To(BeNil())

	// Wait until cxloop is quiet (the attempts settled), so that only the
	// delivery can make the phase look at GitHub again.
	g.Eventually(func() bool {
		n := len(gh.Requests())
		time.Sleep(3 * time.Second)
		return len(gh.Requests()) == n
	}, time.Minute).Should(BeTrue())

	const renamed = ghRepo + "-renamed"
	g.Expect(gh.RenameRepo(ghOwner, ghRepo, ghOwner, renamed)).To(Succeed())
	// GitHub's `repository` delivery of the rename: the journey says so at
	// once, not at its next sync.
	g.Eventually(func(g Gomega) {
		c := meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionRepositoryRenamed)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Message).To(ContainSubstring(ghOwner + "/" + renamed))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	var number int
	for _, is := range gh.Issues(ghOwner, renamed) {
		if slices.Contains(is.Labels, "phase:discovery") {
			number = is.Number
			break
		}
	}
	g.Expect(number).NotTo(BeZero())
	g.Expect(gh.CloseIssue(ghOwner, renamed, number, "completed")).To(Succeed())
	defer func() {
		if t.Failed() {
			for _, r := range gh.Requests() {
				t.Logf("%s %s %s %d", r.Time.Format("15:04:05.000"), r.Method, r.Path, r.Status)
			}
			ph := getPhase(g, ns, "nature-park-discovery")
			t.Logf("phase status %+v", ph.Status)
			t.Logf("journey %+v %+v", getJourney(g, key).Annotations, getJourney(g, key).Status.Conditions)
		}
	}()

	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-discovery")
		closed := 0
		for _, it := range ph.Status.Items {
			if it.Issue == int64(number) && it.State == cxv1.ItemClosed {
				closed++
			}
		}
		g.Expect(closed).To(Equal(1), "the delivery under the new name woke the phase")
		c := meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionRepositoryRenamed)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring("spec.tracker.github names " + ghOwner + "/" + ghRepo))
		g.Expect(c.Message).To(ContainSubstring(ghOwner + "/" + renamed))
		g.Expect(getJourney(g, key).Status.GitHubRepository.ID).To(Equal(repoID))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) {
		var evs eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &evs, client.InNamespace(ns))).To(Succeed())
		found := false
		for _, e := range evs.Items {
			if e.Reason == cxv1.ReasonRepositoryRenamed && e.Regarding.Name == key.Name && strings.Contains(e.Note, "spec.tracker.github") {
				found = true
			}
		}
		g.Expect(found).To(BeTrue(), "a Warning Event names spec.tracker.github")
	}).Should(Succeed())
	before := len(gh.Issues(ghOwner, renamed))
	g.Consistently(func() int { return len(gh.Issues(ghOwner, renamed)) }, time.Second).Should(Equal(before), "nothing is opened again through the redirects")

	// The spec follows the new name: the condition goes.
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) { cj.Spec.Tracker.GitHub.Repo = renamed })
	g.Eventually(func(g Gomega) {
		g.Expect(meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionRepositoryRenamed)).To(BeNil())
	}).Should(Succeed())
}
