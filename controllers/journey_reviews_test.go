package controllers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/review"
)

// startJourneyControllerAt runs the journey controller on a fake clock,
// tracking issues on gh.
func startJourneyControllerAt(t *testing.T, clk *clocktesting.FakeClock) *testManager {
	return startManager(t, func(mgr ctrl.Manager) error {
		return (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clk,
			Trackers: localTrackers(mgr)}).SetupWithManager(mgr, controller.Options{})
	})
}

// reviewIssues lists the review issues on the server.
func reviewIssues(gh *localgithub.Server) []localgithub.Issue {
	var out []localgithub.Issue
	for _, is := range gh.Issues(ghOwner, ghRepo) {
		if strings.HasPrefix(is.Title, "Journey review ") {
			out = append(out, is)
		}
	}
	return out
}

// poke makes the controller look at the journey again (the fake clock
// does not fire requeues) without changing the map.
func poke(t *testing.T, key client.ObjectKey) {
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) {
		cj.Spec.Review.StartingDeadlineSeconds = ptr.To(*cj.Spec.Review.StartingDeadlineSeconds + 1)
	})
}

// recordDelivery records a GitHub webhook delivery on the journey, as a
// replica that receives one does.
func recordDelivery(t *testing.T, key client.ObjectKey) {
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) {
		if cj.Annotations == nil {
			cj.Annotations = map[string]string{}
		}
		cj.Annotations[AnnotationGitHubDelivery] = fmt.Sprintf("delivery-%d", time.Now().UnixNano())
	})
}

func getJourney(g Gomega, key client.ObjectKey) *cxv1.CustomerJourney {
	var cj cxv1.CustomerJourney
	g.Expect(k8sClient.Get(context.Background(), key, &cj)).To(Succeed())
	return &cj
}

// TestScheduledReviews: one review issue per scheduled time, across a
// manager restart; ReviewOverdue while the previous one is still open; a
// closed review is recorded as done; an unchanged map goes Stale.
func TestScheduledReviews(t *testing.T) {
	g := eventually(t)
	gh := githubServer(t)
	ns := namespace(t)
	// A weekly review on Monday 09:00 in Amsterdam.
	start := time.Now().UTC().Truncate(time.Second)
	clk := clocktesting.NewFakeClock(start)
	m := startJourneyControllerAt(t, clk)
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	cj.Spec.Tracker.GitHub.Dashboard = nil
	cj.Spec.Review = &cxv1.ReviewSpec{Schedule: "0 9 * * 1", TimeZone: ptr.To("Europe/Amsterdam"), StartingDeadlineSeconds: ptr.To[int64](7 * 24 * 3600)}
	g.Expect(k8sClient.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()}, StringData: map[string]string{"token": ghToken}})).To(Succeed())
	g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
	key := client.ObjectKeyFromObject(cj)

	sched, err := review.Parse("0 9 * * 1", "Europe/Amsterdam")
	g.Expect(err).NotTo(HaveOccurred())
	first := sched.Next(start)
	second := sched.Next(first)

	// Before the first Monday: nothing to review, the next review is known.
	g.Eventually(func(g Gomega) {
		got := getJourney(g, key)
		g.Expect(got.Status.NextReviewTime).NotTo(BeNil())
		g.Expect(got.Status.NextReviewTime.Time).To(BeTemporally("==", first))
	}).Should(Succeed())
	g.Expect(reviewIssues(gh)).To(BeEmpty())

	// The first Monday passes: exactly one review issue.
	clk.SetTime(first.Add(5 * time.Minute))
	poke(t, key)
	g.Eventually(func(g Gomega) {
		g.Expect(reviewIssues(gh)).To(HaveLen(1))
		got := getJourney(g, key)
		g.Expect(got.Status.Review.OpenIssue).NotTo(BeNil())
		g.Expect(got.Status.NextReviewTime.Time).To(BeTemporally("==", second))
	}).Should(Succeed())
	is := reviewIssues(gh)[0]
	g.Expect(is.Title).To(Equal("Journey review " + first.In(sched.Location()).Format("2006-01-02") + ": nature-park-visit"))
	for _, want := range []string{"Be your own customer", "Walk as **family** through", "Is **day-hiker** still accurate?", "Quick wins still open", "Pain points no phase works on yet", "newsletter (after-the-visit)"} {
		g.Expect(is.Body).To(ContainSubstring(want))
	}

	// A restart that lost the status (the write after creating the issue
	// never happened) does not open it again: the issue is found by its key.
	m.stop()
	lost := getJourney(g, key)
	lost.Status.Review.LastScheduledTime = nil
	g.Expect(k8sClient.Status().Update(context.Background(), lost)).To(Succeed())
	startJourneyControllerAt(t, clk)
	poke(t, key)
	g.Consistently(func() int { return len(reviewIssues(gh)) }).Should(Equal(1))

	// The next Monday comes while the first review is still open.
	clk.SetTime(second.Add(time.Minute))
	poke(t, key)
	g.Eventually(func(g Gomega) {
		g.Expect(reviewIssues(gh)).To(HaveLen(2))
		c := meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionReviewOverdue)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring(fmt.Sprintf("(issue #%d) was still open", is.Number)))
	}).Should(Succeed())

	// Closing the reviews records them as done and clears the overdue flag.
	for _, ri := range reviewIssues(gh) {
		g.Expect(gh.CloseIssue(ghOwner, ghRepo, ri.Number, "completed")).To(Succeed())
	}
	recordDelivery(t, key) // as the webhook does; the poll is hours away on this clock
	g.Eventually(func(g Gomega) {
		got := getJourney(g, key)
		g.Expect(meta.FindStatusCondition(got.Status.Conditions, cxv1.ConditionReviewOverdue)).To(BeNil())
		g.Expect(got.Status.LastReviewTime).NotTo(BeNil())
		g.Expect(got.Status.Review.OpenIssue).To(BeNil())
	}).Should(Succeed())

	// A third review with the map still unchanged: the journey is Stale.
	clk.SetTime(sched.Next(second).Add(time.Minute))
	poke(t, key)
	g.Eventually(func(g Gomega) {
		got := getJourney(g, key)
		g.Expect(reviewIssues(gh)).To(HaveLen(3))
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cxv1.ConditionStale)).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cxv1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())

	// After a long downtime: one catch-up review, not one per missed Monday.
	clk.SetTime(clk.Now().Add(5 * 24 * time.Hour * 7))
	poke(t, key)
	g.Eventually(func() int { return len(reviewIssues(gh)) }).Should(Equal(4))
	g.Consistently(func() int { return len(reviewIssues(gh)) }).Should(Equal(4))
}

// TestInvalidScheduleStalls: an unknown time zone or an impossible date is a
// Warning Event and a Stalled condition naming the field, never a crash loop.
func TestInvalidScheduleStalls(t *testing.T) {
	g := eventually(t)
	startJourneyControllerAt(t, clocktesting.NewFakeClock(time.Now()))
	ns := namespace(t)
	for _, tt := range []struct{ name, schedule, zone, want string }{
		{"unknown-zone", "@weekly", "Mars/Olympus_Mons", "Mars/Olympus_Mons"},
		{"impossible-date", "0 0 31 2 *", "", "never"},
	} {
		cj := sampleJourney(t, ns)
		cj.Name = tt.name
		cj.Spec.Tracker = nil
		cj.Spec.Review = &cxv1.ReviewSpec{Schedule: tt.schedule, TimeZone: ptr.To(tt.zone)}
		g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
		g.Eventually(func(g Gomega) {
			got := getJourney(g, client.ObjectKeyFromObject(cj))
			c := meta.FindStatusCondition(got.Status.Conditions, cxv1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(cxv1.ReasonInvalidSchedule))
			g.Expect(c.Message).To(ContainSubstring("spec.review"))
			g.Expect(strings.ToLower(c.Message)).To(ContainSubstring(strings.ToLower(tt.want)))
			g.Expect(got.Status.NextReviewTime).To(BeNil())
		}).Should(Succeed(), tt.name)
	}
}

// TestDashboardIssue: the dashboard issue shows the Mermaid journey and the
// phase table, and is not edited while nothing it shows changes.
func TestDashboardIssue(t *testing.T) {
	g := eventually(t)
	gh := githubServer(t)
	ns := namespace(t)
	startJourneyControllerAt(t, clocktesting.NewFakeClock(time.Now()))
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	g.Expect(k8sClient.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()}, StringData: map[string]string{"token": ghToken}})).To(Succeed())
	g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
	for _, ph := range samplePhases(t, ns) {
		g.Expect(k8sClient.Create(context.Background(), ph)).To(Succeed())
	}
	key := client.ObjectKeyFromObject(cj)

	var dash localgithub.Issue
	g.Eventually(func(g Gomega) {
		got := getJourney(g, key)
		g.Expect(got.Status.Dashboard).NotTo(BeNil())
		for _, is := range gh.Issues(ghOwner, ghRepo) {
			if int64(is.Number) == got.Status.Dashboard.Number {
				dash = is
			}
		}
		g.Expect(dash.Body).To(ContainSubstring("```mermaid\njourney\n"))
		g.Expect(dash.Body).To(ContainSubstring("nature-park-improve"))
	}).Should(Succeed())
	g.Expect(dash.Title).To(Equal("Journey dashboard: nature-park-visit"))
	for _, want := range []string{"section inspiration", "website-home: 2: family", "| Discovery |", "| Improve |", "20 person-days"} {
		g.Expect(dash.Body).To(ContainSubstring(want))
	}

	edits := func() int {
		n := 0
		for _, r := range gh.Requests() {
			if r.Method == http.MethodPatch && strings.HasSuffix(strings.SplitN(r.Path, "?", 2)[0], fmt.Sprintf("/issues/%d", dash.Number)) {
				n++
			}
		}
		return n
	}
	settled := edits()
	poke(t, key)
	poke(t, key)
	g.Consistently(edits).Should(Equal(settled), "nothing the dashboard shows changed")

	// The map changes: the dashboard is edited in place.
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) {
		cj.Spec.Stages[0].Touchpoints[0].Experiences[0].Score = ptr.To[int32](2)
	})
	g.Eventually(edits).Should(BeNumerically(">", settled))
	g.Eventually(func(g Gomega) {
		for _, is := range gh.Issues(ghOwner, ghRepo) {
			if is.Number == dash.Number {
				g.Expect(is.Body).To(ContainSubstring("park-magazine: 5: family"))
			}
		}
	}).Should(Succeed())
	g.Expect(len(gh.Issues(ghOwner, ghRepo))).To(Equal(1), "one dashboard issue, edited in place")
}

// TestJourneyIssuesKeepTheirAttempts: the dashboard issue (and reviews,
// through the same path) is opened exactly once when GitHub fails: an
// attempt whose outcome is unknown is kept in status.issueAttempts, nothing
// is sent for it during the grace, and a create whose answer was lost is
// adopted, not repeated.
func TestJourneyIssuesKeepTheirAttempts(t *testing.T) {
	g := eventually(t)
	const grace = 3 * time.Second
	for _, tt := range []struct {
		name  string
		fault localgithub.FaultKind
	}{
		{"a 502: maybe created, so it waits", localgithub.ServerError},
		{"a lost answer: created, so it is adopted", localgithub.DropResponseAfterCommit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh := githubServer(t)
			ns := namespace(t)
			gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/*/*/issues", Kind: tt.fault, Status: http.StatusBadGateway})
			startManager(t, func(mgr ctrl.Manager) error {
				return (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{},
					Trackers: localTrackers(mgr), CreateGrace: grace}).SetupWithManager(mgr, controller.Options{})
			})
			cj := sampleJourney(t, ns)
			cj.Spec.Review = nil
			cj.Spec.Tracker.GitHub.APIURL = gh.URL()
			g.Expect(k8sClient.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()}, StringData: map[string]string{"token": ghToken}})).To(Succeed())
			g.Expect(k8sClient.Create(context.Background(), cj)).To(Succeed())
			key := client.ObjectKeyFromObject(cj)
			creates := func() int {
				n := 0
				for _, r := range gh.Requests() {
					if r.Method == http.MethodPost && strings.HasSuffix(strings.SplitN(r.Path, "?", 2)[0], "/issues") {
						n++
					}
				}
				return n
			}
			if tt.fault == localgithub.ServerError {
				g.Eventually(func(g Gomega) {
					got := getJourney(g, key)
					g.Expect(got.Status.IssueAttempts).To(HaveLen(1))
					g.Expect(got.Status.IssueAttempts[0].Key).To(HaveSuffix("/dashboard"))
				}).Should(Succeed())
				// The attempt is written just before its request goes out.
				g.Eventually(creates).Should(Equal(1))
				g.Consistently(creates, grace/2, 100*time.Millisecond).Should(Equal(1), "a create was sent again within the grace")
			}
			g.Eventually(func(g Gomega) {
				got := getJourney(g, key)
				g.Expect(got.Status.Dashboard).NotTo(BeNil())
				g.Expect(got.Status.IssueAttempts).To(BeEmpty())
			}, 30*time.Second).Should(Succeed())
			dashboards := 0
			for _, is := range gh.Issues(ghOwner, ghRepo) {
				if strings.HasPrefix(is.Title, "Journey dashboard") {
					dashboards++
				}
			}
			g.Expect(dashboards).To(Equal(1), "dashboard issues on GitHub")
		})
	}
}
