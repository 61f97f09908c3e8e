package controllers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// TestRateLimitsAreWaitedOut: a primary limit until reset, then a
// secondary limit answered 429 with Retry-After, are reported as
// RateLimited, no request is sent while limited, and nothing is lost or
// duplicated once GitHub allows again.
func TestRateLimitsAreWaitedOut(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh, err := localgithub.New(localgithub.Options{RateLimit: 1000, RateWindow: 5 * time.Second})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gh.Start("127.0.0.1:0")).To(Succeed())
	allowLocalGitHub(gh)
	t.Cleanup(func() { _ = gh.Close() })
	gh.AddRepo(ghOwner, ghRepo)
	gh.AddToken(ghToken)

	issuesPath := "/repos/" + ghOwner + "/" + ghRepo + "/issues"
	gh.Inject(localgithub.Fault{Method: http.MethodGet, Path: issuesPath, Kind: localgithub.PrimaryLimit, Times: 1})
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: issuesPath, Kind: localgithub.SecondaryLimit, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 1})

	startCxloop(t)
	ns := namespace(t)
	trackedJourney(t, ns, gh)
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())

	// The primary limit: reported with when it resumes.
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, improve.Name)
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionRateLimited)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(tracker.ReasonRateLimited))
		g.Expect(c.Message).To(ContainSubstring("resuming at"))
		g.Expect(meta.IsStatusConditionTrue(ph.Status.Conditions, cxv1.ConditionReconciling)).To(BeTrue())
	}).Should(Succeed())

	// An Event names when work resumes.
	g.Eventually(func(g Gomega) {
		var evs eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &evs, client.InNamespace(ns))).To(Succeed())
		var notes []string
		for _, e := range evs.Items {
			if e.Reason == tracker.ReasonRateLimited && e.Type == "Warning" {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("GitHub rate limit: resuming at")))
	}).Should(Succeed())

	// While limited, nothing is sent to GitHub.
	limitedAt := len(gh.Requests())
	time.Sleep(time.Second)
	g.Expect(requestsSince(gh, limitedAt)).To(BeEmpty(), "requests were sent while rate limited")

	// After the reset and the secondary limit, every quick win opens exactly once.
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, improve.Name)
		g.Expect(ph.Status.Items).To(HaveLen(4), "conditions: %+v", ph.Status.Conditions)
		for _, it := range ph.Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen), it.Key)
		}
		g.Expect(meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionRateLimited)).To(BeNil())
		g.Expect(meta.IsStatusConditionTrue(ph.Status.Conditions, cxv1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())
	g.Expect(issuesOf(gh, "phase:improve")).To(HaveLen(4))
	var secondary bool
	for _, r := range gh.Requests() {
		secondary = secondary || (r.Method == http.MethodPost && r.Status == http.StatusTooManyRequests)
	}
	g.Expect(secondary).To(BeTrue(), "the 429 secondary limit was answered")
}

func requestsSince(gh *localgithub.Server, n int) []string {
	var out []string
	for _, r := range gh.Requests()[n:] {
		if !strings.HasPrefix(r.Path, "/rate_limit") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}
