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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
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

	startCxloop(t)
	ns := namespace(t)
	cj := trackedJourney(t, ns, gh)
	// The journey connected first (its listing loads the repository's
	// shared issue index): the phase alone meets the limits, on whichever
	// request it sends first (a listing, or a create when the index is
	// fresh), then on its next create.
	g.Eventually(func(g Gomega) {
		g.Expect(meta.IsStatusConditionTrue(getJourney(g, client.ObjectKeyFromObject(cj)).Status.Conditions, cxv1.ConditionTrackerReady)).To(BeTrue())
	}).Should(Succeed())
	gh.Inject(localgithub.Fault{Path: issuesPath, Kind: localgithub.PrimaryLimit, Times: 1})
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: issuesPath, Kind: localgithub.SecondaryLimit, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 1})
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())

	// The primary limit: reported with when it resumes.
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, improve.Name)
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionRateLimited)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonRateLimited))
		g.Expect(c.Message).To(ContainSubstring("resuming at"))
		g.Expect(meta.IsStatusConditionTrue(ph.Status.Conditions, cxv1.ConditionReconciling)).To(BeTrue())
	}).Should(Succeed())

	// An Event names when work resumes.
	g.Eventually(func(g Gomega) {
		var evs eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &evs, client.InNamespace(ns))).To(Succeed())
		var notes []string
		for _, e := range evs.Items {
			if e.Reason == cxv1.ReasonRateLimited && e.Type == "Warning" {
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

// TestWaitingForTheBudgetIsQuiet: a phase that waits for the write budget
// says so once, then syncs every second without writing its status or
// sending GitHub anything (its issues come from the repository's index,
// which nothing marked changed), well past the index's freshness window;
// a webhook delivery saying the repository changed makes it look again.
func TestWaitingForTheBudgetIsQuiet(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	startManager(t, func(mgr ctrl.Manager) error {
		trackers := localTrackers(mgr)
		trackers.WritesPerMinute = 1 // one write, then a minute's wait
		if err := (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).SetupWithManager(mgr, controller.Options{}); err != nil {
			return err
		}
		return (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).
			SetupWithManager(mgr, controller.Options{})
	})
	ns := namespace(t)
	cj := trackedJourney(t, ns, gh)
	// The journey connected first (its label is a write): the phase alone spends the budget.
	g.Eventually(func(g Gomega) {
		g.Expect(meta.IsStatusConditionTrue(getJourney(g, client.ObjectKeyFromObject(cj)).Status.Conditions, cxv1.ConditionTrackerReady)).To(BeTrue())
	}).Should(Succeed())
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	improve.Spec.SyncInterval = &metav1.Duration{Duration: time.Second}
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())

	var waiting *cxv1.ImprovementPhase
	g.Eventually(func(g Gomega) {
		waiting = getPhase(g, ns, improve.Name)
		c := meta.FindStatusCondition(waiting.Status.Conditions, cxv1.ConditionRateLimited)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonWriteBudget))
	}).Should(Succeed())
	sent, synced := len(gh.Requests()), phaseReconciles(t)
	// Longer than the index's freshness (10s): a sync that relisted the
	// repository once its view aged would show here.
	g.Consistently(func(g Gomega) {
		ph := getPhase(g, ns, improve.Name)
		g.Expect(ph.ResourceVersion).To(Equal(waiting.ResourceVersion), "the waiting phase wrote its status: %+v", ph.Status.Conditions)
		g.Expect(requestsSince(gh, sent)).To(BeEmpty(), "requests sent while only waiting")
	}, 15*time.Second, 250*time.Millisecond).Should(Succeed())
	if n := phaseReconciles(t) - synced; n < 5 {
		t.Fatalf("the phase synced %d times in 15s of waiting, want about 15: the quiet proves nothing", n)
	}

	// News of a change (a webhook delivery recorded on the journey) is worth a look.
	recordDelivery(t, client.ObjectKeyFromObject(cj))
	g.Eventually(func() []string { return requestsSince(gh, sent) }, 10*time.Second).ShouldNot(BeEmpty())
}

// phaseReconciles is how many reconciles the phase controllers of this
// process have run.
func phaseReconciles(t *testing.T) int {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "improvementphase" {
					n += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return n
}
