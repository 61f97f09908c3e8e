package controllers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

const (
	ghOwner       = "nature-park"
	ghRepo        = "visitor-experience"
	ghToken       = "ghp_cxlooptesttoken0000000000000000000000"
	webhookSecret = "cxloop-webhook-secret"
)

// githubServer starts cxloop's local GitHub-compatible server with the
// sample journey's repository.
func githubServer(t *testing.T) *localgithub.Server {
	t.Helper()
	gh, err := localgithub.New(localgithub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	gh.AddRepo(ghOwner, ghRepo)
	gh.AddToken(ghToken)
	allowLocalGitHub(gh)
	return gh
}

// cxloop is a running cxloop manager: both reconcilers and the webhook endpoint.
type cxloop struct {
	*testManager
	webhookURL string
}

func startCxloop(t *testing.T) *cxloop {
	t.Helper()
	var hook *IssueWebhook
	m := startManager(t, func(mgr ctrl.Manager) error {
		trackers := localTrackers(mgr)
		hook = &IssueWebhook{Client: mgr.GetClient()}
		if err := (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).SetupWithManager(mgr, controller.Options{}); err != nil {
			return err
		}
		return (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).
			SetupWithManager(mgr, controller.Options{})
	})
	srv := httptest.NewServer(&ghwebhook.Handler{Secrets: func() [][]byte { return [][]byte{[]byte(webhookSecret)} }, OnIssue: hook.OnIssue, OnRepository: hook.OnRepository})
	t.Cleanup(srv.Close)
	return &cxloop{testManager: m, webhookURL: srv.URL}
}

// trackedJourney creates the credentials Secret and the sample journey,
// tracked on the local GitHub server.
func trackedJourney(t *testing.T, ns string, gh *localgithub.Server) *cxv1.CustomerJourney {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()}, StringData: map[string]string{"token": ghToken}}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	if err := k8sClient.Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	return cj
}

// issuesOf lists the server's issues of one phase type, by cxloop key.
func issuesOf(gh *localgithub.Server, phaseLabel string) map[string]localgithub.Issue {
	out := map[string]localgithub.Issue{}
	for _, is := range gh.Issues(ghOwner, ghRepo) {
		if slices.Contains(is.Labels, phaseLabel) {
			out[tracker.KeyFromBody(is.Body)] = is
		}
	}
	return out
}

func openCount(issues map[string]localgithub.Issue) int {
	n := 0
	for _, is := range issues {
		if is.State == "open" {
			n++
		}
	}
	return n
}

func getPhase(g Gomega, ns, name string) *cxv1.ImprovementPhase {
	var ph cxv1.ImprovementPhase
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &ph)).To(Succeed())
	return &ph
}

func itemStates(ph *cxv1.ImprovementPhase) map[string]cxv1.ItemState {
	out := map[string]cxv1.ItemState{}
	for _, it := range ph.Status.Items {
		out[it.Key] = it.State
	}
	return out
}

func itemIssue(ph *cxv1.ImprovementPhase, key string) int {
	for _, it := range ph.Status.Items {
		if it.Key == key {
			return int(it.Issue)
		}
	}
	return 0
}

func updateJourney(t *testing.T, key client.ObjectKey, change func(*cxv1.CustomerJourney)) {
	t.Helper()
	eventually(t).Eventually(func() error {
		var cj cxv1.CustomerJourney
		if err := k8sClient.Get(context.Background(), key, &cj); err != nil {
			return err
		}
		change(&cj)
		return k8sClient.Update(context.Background(), &cj)
	}).Should(Succeed())
}

func updatePhase(t *testing.T, ns, name string, change func(*cxv1.ImprovementPhase)) {
	t.Helper()
	eventually(t).Eventually(func() error {
		var ph cxv1.ImprovementPhase
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &ph); err != nil {
			return err
		}
		change(&ph)
		return k8sClient.Update(context.Background(), &ph)
	}).Should(Succeed())
}

// watchOpenIssues samples the server's open issues of a phase until the
// test ends and reports the most seen at once.
func watchOpenIssues(t *testing.T, gh *localgithub.Server, phaseLabel string) func() int {
	var most atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if n := int64(openCount(issuesOf(gh, phaseLabel))); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	return func() int { return int(most.Load()) }
}

// TestImprovementLoop runs the method end to end: Discovery opens one issue
// per gap of the map; fixing the map and closing them completes it; Improve
// then opens exactly the quick wins within maxOpenIssues; closing them —
// once through a signed webhook, once seen only by polling — completes it,
// a removed pain point's issue is closed as not planned, and Perfection starts.
func TestImprovementLoop(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	cx := startCxloop(t)
	gh.SetWebhook(cx.webhookURL+"/github/webhook", webhookSecret)
	ns := namespace(t)
	mostOpenImprove := watchOpenIssues(t, gh, "phase:improve")

	cj := trackedJourney(t, ns, gh)
	for _, ph := range samplePhases(t, ns) {
		ph.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour} // only webhooks and map changes drive it
		if ph.Spec.Type == cxv1.PhaseImprove {
			ph.Spec.Limits.MaxOpenIssues = 2
		}
		g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())
	}

	// Discovery: one issue per gap of the map.
	g.Eventually(func(g Gomega) {
		g.Expect(issuesOf(gh, "phase:discovery")).To(HaveLen(2))
		ph := getPhase(g, ns, "nature-park-discovery")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(itemStates(ph)).To(Equal(map[string]cxv1.ItemState{
			"gap/touchpoint-without-owner/visit/nearby-restaurant": cxv1.ItemOpen,
			"gap/pain-point-not-sized/parking-signs":               cxv1.ItemOpen,
		}))
	}).Should(Succeed())
	discovery := issuesOf(gh, "phase:discovery")
	restaurantGap := discovery[ns+"/nature-park-visit/gap/touchpoint-without-owner/visit/nearby-restaurant"]
	g.Expect(restaurantGap.Title).To(Equal("Map gap: find an owner for touchpoint nearby-restaurant (visit)"))
	g.Expect(restaurantGap.Labels).To(ContainElements("cxloop", "phase:discovery", "stage:visit", "customer-journey"))
	g.Expect(restaurantGap.Assignees).To(ConsistOf("park-product-owner"))
	g.Expect(restaurantGap.Body).To(ContainSubstring("### Done when"))
	g.Eventually(func(g Gomega) {
		g.Expect(getPhase(g, ns, "nature-park-improve").Status.State).To(Equal(cxv1.PhasePending))
	}).Should(Succeed())
	g.Expect(issuesOf(gh, "phase:improve")).To(BeEmpty())

	// A product owner closes one gap's issue; the webhook brings it in.
	g.Expect(gh.CloseIssue(ghOwner, ghRepo, restaurantGap.Number, "completed")).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(itemStates(getPhase(g, ns, "nature-park-discovery"))["gap/touchpoint-without-owner/visit/nearby-restaurant"]).To(Equal(cxv1.ItemClosed))
	}).Should(Succeed())
	g.Expect(getPhase(g, ns, "nature-park-discovery").Status.State).To(Equal(cxv1.PhaseActive), "a gap still in the map keeps Discovery going")

	// Fixing the map closes the remaining gap's issue and completes Discovery.
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		cj.Spec.Stages[3].Touchpoints[2].Owner = "Partnerships"
		cj.Spec.Stages[2].Touchpoints[0].PainPoints[0].Effort = 3
	})
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-discovery")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseCompleted))
		g.Expect(ph.Status.CompletedAt).NotTo(BeNil())
		g.Expect(ph.Status.Progress.Summary).To(Equal("2/2 (100%)"))
		g.Expect(openCount(issuesOf(gh, "phase:discovery"))).To(Equal(0))
	}).Should(Succeed())

	// Improve opens exactly the quick wins, best first, two at a time.
	quickWins := []string{"painpoint/family-info-hidden", "painpoint/app-offline-maps", "painpoint/faded-markers", "painpoint/no-route-planner"}
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-improve")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(itemStates(ph)).To(Equal(map[string]cxv1.ItemState{
			quickWins[0]: cxv1.ItemOpen, quickWins[1]: cxv1.ItemOpen, quickWins[2]: cxv1.ItemPlanned, quickWins[3]: cxv1.ItemPlanned,
		}))
		g.Expect(issuesOf(gh, "phase:improve")).To(HaveLen(2))
	}).Should(Succeed())
	improve := getPhase(g, ns, "nature-park-improve")
	first := issuesOf(gh, "phase:improve")[ns+"/nature-park-visit/"+quickWins[0]]
	g.Expect(first.Title).To(Equal("website-home: Parking, toilets and playgrounds are three clicks deep"))
	for _, want := range []string{"| Personas | family |", "| Channel | web |", "| Owning department | Digital |", "| Impact | 5 of 5 |", "| Effort | 1 of 5 |", "quick win: impact 5 ≥ 4 and effort 1 ≤ 2", "phase **nature-park-improve** (Improve"} {
		g.Expect(first.Body).To(ContainSubstring(want))
	}
	g.Expect(first.Labels).To(ContainElements("cxloop", "phase:improve", "persona:family", "stage:inspiration", "priority:P1"))

	// A forged webhook is refused and changes nothing.
	forged := []byte(`{"action":"closed","issue":{"number":` + itoa(itemIssue(improve, quickWins[1])) + `,"state":"closed"},"repository":{"name":"` + ghRepo + `","owner":{"login":"` + ghOwner + `"}}}`)
	for _, sig := range []string{"", "sha256=" + strings.Repeat("0", 64)} {
		req, _ := http.NewRequest(http.MethodPost, cx.webhookURL+"/github/webhook", bytes.NewReader(forged))
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
	}

	// Closed on GitHub, seen through the signed webhook (the poll is an hour away).
	g.Expect(gh.CloseIssue(ghOwner, ghRepo, itemIssue(improve, quickWins[0]), "completed")).To(Succeed())
	g.Eventually(func(g Gomega) {
		states := itemStates(getPhase(g, ns, "nature-park-improve"))
		g.Expect(states[quickWins[0]]).To(Equal(cxv1.ItemClosed))
		g.Expect(states[quickWins[1]]).To(Equal(cxv1.ItemOpen))
		g.Expect(states[quickWins[2]]).To(Equal(cxv1.ItemOpen), "the next quick win opens as one closes")
	}).Should(Succeed())

	// Closed on GitHub without a webhook: the poll sees it.
	gh.SetWebhook("", "")
	updatePhase(t, ns, "nature-park-improve", func(ph *cxv1.ImprovementPhase) { ph.Spec.SyncInterval = &metav1.Duration{Duration: 2 * time.Second} })
	g.Eventually(func(g Gomega) {
		g.Expect(getPhase(g, ns, "nature-park-improve").Status.ObservedGeneration).To(Equal(getPhase(g, ns, "nature-park-improve").Generation))
	}).Should(Succeed())
	g.Expect(gh.CloseIssue(ghOwner, ghRepo, itemIssue(getPhase(g, ns, "nature-park-improve"), quickWins[1]), "completed")).To(Succeed())
	g.Eventually(func(g Gomega) {
		states := itemStates(getPhase(g, ns, "nature-park-improve"))
		g.Expect(states[quickWins[1]]).To(Equal(cxv1.ItemClosed))
		g.Expect(states[quickWins[3]]).To(Equal(cxv1.ItemOpen))
	}).Should(Succeed())

	// The route planner is dropped from the map: its issue is closed as not planned.
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		tp := &cj.Spec.Stages[0].Touchpoints[3]
		tp.PainPoints = slices.DeleteFunc(tp.PainPoints, func(p cxv1.PainPoint) bool { return p.ID == "no-route-planner" })
	})
	g.Eventually(func(g Gomega) {
		g.Expect(itemStates(getPhase(g, ns, "nature-park-improve"))[quickWins[3]]).To(Equal(cxv1.ItemObsolete))
		is := issuesOf(gh, "phase:improve")[ns+"/nature-park-visit/"+quickWins[3]]
		g.Expect(is.State).To(Equal("closed"))
		g.Expect(is.StateReason).To(Equal("not_planned"))
		g.Expect(is.Comments).To(ContainElement(ContainSubstring("closing as not planned")))
	}).Should(Succeed())

	// It comes back to the map: the same issue is reopened, not a new one opened.
	routeIssue := itemIssue(getPhase(g, ns, "nature-park-improve"), quickWins[3])
	updateJourney(t, client.ObjectKeyFromObject(cj), func(cj *cxv1.CustomerJourney) {
		tp := &cj.Spec.Stages[0].Touchpoints[3]
		tp.PainPoints = append(tp.PainPoints, cxv1.PainPoint{ID: "no-route-planner", Summary: "Routes cannot be filtered by length or difficulty",
			Personas: []string{"day-hiker"}, Impact: 4, Effort: 2})
	})
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-improve")
		g.Expect(itemStates(ph)[quickWins[3]]).To(Equal(cxv1.ItemOpen))
		g.Expect(itemIssue(ph, quickWins[3])).To(Equal(routeIssue))
		is := issuesOf(gh, "phase:improve")[ns+"/nature-park-visit/"+quickWins[3]]
		g.Expect(is.State).To(Equal("open"))
		g.Expect(is.Comments).To(ContainElement(ContainSubstring("asks for this work again: reopening")))
	}).Should(Succeed())

	// The last quick wins close: Improve completes and Perfection starts.
	g.Expect(gh.CloseIssue(ghOwner, ghRepo, routeIssue, "completed")).To(Succeed())
	g.Expect(gh.CloseIssue(ghOwner, ghRepo, itemIssue(getPhase(g, ns, "nature-park-improve"), quickWins[2]), "completed")).To(Succeed())
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, "nature-park-improve")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseCompleted))
		g.Expect(ph.Status.Progress.Summary).To(Equal("4/4 (100%)"))
		g.Expect(meta.IsStatusConditionTrue(ph.Status.Conditions, cxv1.ConditionReady)).To(BeTrue())
		g.Expect(getPhase(g, ns, "nature-park-perfection").Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(getPhase(g, ns, "nature-park-personalization").Status.State).To(Equal(cxv1.PhasePending))
	}).Should(Succeed())

	// Completion is final: suspending a completed phase does not undo it.
	updatePhase(t, ns, "nature-park-improve", func(ph *cxv1.ImprovementPhase) { ph.Spec.Suspend = ptrTo(true) })
	g.Consistently(func(g Gomega) {
		g.Expect(getPhase(g, ns, "nature-park-improve").Status.State).To(Equal(cxv1.PhaseCompleted))
		g.Expect(getPhase(g, ns, "nature-park-perfection").Status.State).To(Equal(cxv1.PhaseActive))
	}).Should(Succeed())

	// Every piece of work was opened exactly once, and the limit held throughout.
	keys := map[string]int{}
	for _, is := range gh.Issues(ghOwner, ghRepo) {
		keys[tracker.KeyFromBody(is.Body)]++
	}
	for k, n := range keys {
		g.Expect(n).To(Equal(1), "issue %s opened %d times", k, n)
	}
	g.Expect(mostOpenImprove()).To(Equal(2), "maxOpenIssues 2 must hold at every moment")

	// Prometheus shows the same progress.
	g.Expect(testutil.ToFloat64(phaseProgress.WithLabelValues(ns, "nature-park-improve", "nature-park-visit", "Improve"))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(phaseItems.WithLabelValues(ns, "nature-park-improve", "Obsolete"))).To(Equal(0.0))
	g.Expect(testutil.ToFloat64(phaseItems.WithLabelValues(ns, "nature-park-improve", "Closed"))).To(Equal(4.0))

	// Leadership sees the active phase on the journey.
	g.Eventually(func(g Gomega) {
		var got cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), &got)).To(Succeed())
		g.Expect(got.Status.ActivePhase).To(Equal("nature-park-perfection"))
	}).Should(Succeed())
}

// TestRestartWhileOpeningIssues: a manager stopped while it opens issues,
// with a create whose response was lost on the way, leaves neither a
// duplicate nor a lost item once a new manager takes over.
func TestRestartWhileOpeningIssues(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	ns := namespace(t)
	cj := trackedJourney(t, ns, gh)
	_ = cj
	// Creating issues is slow, and the response of the first create is lost
	// after GitHub committed it.
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/" + ghOwner + "/" + ghRepo + "/issues", Kind: localgithub.DropResponseAfterCommit, Times: 1})
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/" + ghOwner + "/" + ghRepo + "/issues", Kind: localgithub.Latency, Delay: 400 * time.Millisecond, Times: -1})

	first := startCxloop(t)
	improve := samplePhases(t, ns)[1]
	improve.Spec.After = ""
	improve.Spec.Limits = nil
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())
	g.Eventually(func() int { return len(issuesOf(gh, "phase:improve")) }).Should(BeNumerically(">=", 2))
	first.stop()
	g.Expect(len(issuesOf(gh, "phase:improve"))).To(BeNumerically("<", 4), "the restart must come while issues are still being opened")

	startCxloop(t)
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, improve.Name)
		g.Expect(ph.Status.Items).To(HaveLen(4))
		for _, it := range ph.Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen), it.Key)
			g.Expect(it.Issue).NotTo(BeZero())
		}
	}).Should(Succeed())
	keys := map[string]int{}
	g.Eventually(func(g Gomega) {
		keys = map[string]int{}
		for _, is := range gh.Issues(ghOwner, ghRepo) {
			keys[tracker.KeyFromBody(is.Body)]++
		}
		g.Expect(keys).To(HaveLen(5), "four quick wins and the dashboard")
	}).Should(Succeed())
	for k, n := range keys {
		g.Expect(n).To(Equal(1), "issue %s opened %d times", k, n)
	}
}

// TestTrackerProblemsAreConditions: a missing Secret and a bad token are
// clear conditions on the phase, not crashes.
func TestTrackerProblemsAreConditions(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	startCxloop(t)
	ns := namespace(t)
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	discovery := samplePhases(t, ns)[0]
	g.Expect(k8sClient.Create(ctx, discovery)).To(Succeed())

	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, discovery.Name)
		// Waiting for a Secret heals on its own: Reconciling, not Stalled.
		g.Expect(meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionStalled)).To(BeNil())
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionReconciling)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(cxv1.ReasonSecretNotFound))
		g.Expect(c.Message).To(ContainSubstring(`Secret "github-credentials" named in spec.tracker.github.secretRef does not exist`))
		// The journey says so too.
		jc := meta.FindStatusCondition(getJourney(g, client.ObjectKeyFromObject(cj)).Status.Conditions, cxv1.ConditionTrackerReady)
		g.Expect(jc).NotTo(BeNil())
		g.Expect(jc.Reason).To(Equal(cxv1.ReasonSecretNotFound))
	}).Should(Succeed())

	badToken := "ghp_thisTokenIsWrong000000000000000000000"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()}, StringData: map[string]string{"token": badToken}}
	g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	updatePhase(t, ns, discovery.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "retry now" })
	g.Eventually(func(g Gomega) {
		ph := getPhase(g, ns, discovery.Name)
		c := meta.FindStatusCondition(ph.Status.Conditions, cxv1.ConditionTrackerReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(cxv1.ReasonBadCredentials))
		g.Expect(c.Message).NotTo(ContainSubstring(badToken))
	}).Should(Succeed())
	g.Expect(gh.Issues(ghOwner, ghRepo)).To(BeEmpty())
}

func ptrTo[T any](v T) *T { return &v }

func itoa(n int) string { return strconv.Itoa(n) }

// TestDeletedAndTransferredIssuesAreReported: an issue deleted or
// transferred on GitHub is reported on its item and as an Event, not
// silently lost, and not opened again.
func TestDeletedAndTransferredIssuesAreReported(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	gh.AddRepo(ghOwner, "elsewhere")
	cx := startCxloop(t)
	gh.SetWebhook(cx.webhookURL+WebhookPath, webhookSecret)
	ns := namespace(t)
	trackedJourney(t, ns, gh)
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	improve.Spec.SyncInterval = &metav1.Duration{Duration: time.Hour}
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())
	var ph *cxv1.ImprovementPhase
	g.Eventually(func(g Gomega) {
		g.Expect(openCount(issuesOf(gh, "phase:improve"))).To(Equal(4))
		ph = getPhase(g, ns, improve.Name)
		g.Expect(ph.Status.Items).To(HaveLen(4))
		for _, it := range ph.Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen))
			g.Expect(it.Issue).NotTo(BeZero())
		}
	}).Should(Succeed())
	deleted, transferred := ph.Status.Items[0], ph.Status.Items[1]

	g.Expect(gh.DeleteIssue(ghOwner, ghRepo, int(deleted.Issue))).To(Succeed())
	g.Expect(gh.TransferIssue(ghOwner, ghRepo, int(transferred.Issue), ghOwner, "elsewhere")).To(Succeed())
	g.Eventually(func(g Gomega) {
		msgs := map[string]string{}
		for _, it := range getPhase(g, ns, improve.Name).Status.Items {
			msgs[it.Key] = it.Message
		}
		g.Expect(msgs[deleted.Key]).To(Equal(fmt.Sprintf("issue #%d is gone from the repository: deleted on GitHub; cxloop will not open it again", deleted.Issue)))
		g.Expect(msgs[transferred.Key]).To(MatchRegexp(`issue #%d is gone from the repository: transferred on GitHub to %s/elsewhere#\d+`, transferred.Issue, ghOwner))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) {
		var evs eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &evs, client.InNamespace(ns))).To(Succeed())
		// Events alike but for their note are folded into a series.
		n := 0
		for _, e := range evs.Items {
			if e.Reason == cxv1.ReasonIssueMissing && e.Type == corev1.EventTypeWarning {
				g.Expect(e.Note).To(ContainSubstring("is gone from the repository"))
				n++
				if e.Series != nil {
					n += int(e.Series.Count) - 1
				}
			}
		}
		g.Expect(n).To(Equal(2))
	}).Should(Succeed())
	g.Consistently(func() int { return len(issuesOf(gh, "phase:improve")) }).Should(Equal(2), "a vanished issue is not opened again")
}
