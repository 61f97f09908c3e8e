package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
)

// The kstatus tests read cxloop's objects the way kubectl wait, Flux, Argo
// CD and kpt do (sigs.k8s.io/cli-utils/pkg/kstatus/status) through their
// life: InProgress while cxloop works or has not seen the latest spec,
// Current once it has, Failed while it cannot go on without a person.

// kstatusOf computes the object's status from what the API server holds,
// as an unstructured object like the tools see it.
func kstatusOf(g Gomega, kind string, key client.ObjectKey) *status.Result {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: cxv1.GroupVersion.Group, Version: cxv1.GroupVersion.Version, Kind: kind})
	g.Expect(k8sClient.Get(context.Background(), key, u)).To(Succeed())
	res, err := status.Compute(u)
	g.Expect(err).NotTo(HaveOccurred())
	return res
}

// expectKstatus waits until kstatus reads the object as want, and says
// what it read when it never does.
func expectKstatus(t *testing.T, kind string, key client.ObjectKey, want status.Status, why string) {
	t.Helper()
	var last *status.Result
	eventually(t).Eventually(func(g Gomega) {
		last = kstatusOf(g, kind, key)
		g.Expect(last.Status).To(Equal(want))
	}).Should(Succeed(), func() string { return why + ": kstatus read " + last.Status.String() + ": " + last.Message })
}

func TestKstatusJourneyLife(t *testing.T) {
	ctx := context.Background()
	g := eventually(t)
	m := startJourneyController(t)
	ns := namespace(t)
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker = nil
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	key := client.ObjectKeyFromObject(cj)
	// kstatus reads an object without status as Current (it cannot tell
	// that a controller will write one), so wait for the first reconcile.
	g.Eventually(func(g Gomega) {
		c := readyCondition(g, key, &cxv1.CustomerJourney{})
		g.Expect(c).NotTo(BeNil())
	}).Should(Succeed())
	expectKstatus(t, "CustomerJourney", key, status.CurrentStatus, "a scored journey")

	// A spec the controller has not seen yet is in progress: nothing
	// reconciles it while the manager is down.
	m.stop()
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) { cj.Spec.Owner = "Visitor Services" })
	expectKstatus(t, "CustomerJourney", key, status.InProgressStatus, "a new generation before the controller saw it")
	g.Consistently(func(g Gomega) status.Status { return kstatusOf(g, "CustomerJourney", key).Status }).Should(Equal(status.InProgressStatus))
	m = startJourneyController(t)
	expectKstatus(t, "CustomerJourney", key, status.CurrentStatus, "the new generation scored")

	// A map a person must fix is Failed, so Flux and Argo CD stop waiting.
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) {
		cj.Spec.Stages[3].Touchpoints[1].PainPoints[0].ID = "phone-queue"
	})
	expectKstatus(t, "CustomerJourney", key, status.FailedStatus, "duplicate pain point ids")
	g.Expect(kstatusOf(g, "CustomerJourney", key).Message).To(ContainSubstring("phone-queue"))

	// Fixed, it is Current again.
	updateJourney(t, key, func(cj *cxv1.CustomerJourney) {
		cj.Spec.Stages[3].Touchpoints[1].PainPoints[0].ID = "last-bus-too-early"
	})
	expectKstatus(t, "CustomerJourney", key, status.CurrentStatus, "the map fixed")
	m.stop()
}

func TestKstatusPhaseLife(t *testing.T) {
	ctx := context.Background()
	g := eventually(t)
	gh, err := localgithub.New(localgithub.Options{RateLimit: 1000, RateWindow: 5 * time.Second})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gh.Start("127.0.0.1:0")).To(Succeed())
	allowLocalGitHub(gh)
	t.Cleanup(func() { _ = gh.Close() })
	gh.AddRepo(ghOwner, ghRepo)
	gh.AddToken(ghToken)

	cx := startCxloop(t)
	ns := namespace(t)
	improve := samplePhases(t, ns)[1]
	improve.Spec.After, improve.Spec.Limits = "", nil
	g.Expect(k8sClient.Create(ctx, improve)).To(Succeed())
	key := client.ObjectKeyFromObject(improve)

	// Its journey does not exist (yet): in progress, not failed, since
	// creating the journey is all it takes.
	expectKstatus(t, "ImprovementPhase", key, status.InProgressStatus, "the journey is missing")

	// GitHub's rate limit holds the work back: in progress, not failed, as
	// cxloop resumes by itself.
	issuesPath := "/repos/" + ghOwner + "/" + ghRepo + "/issues"
	gh.Inject(localgithub.Fault{Method: "GET", Path: issuesPath, Kind: localgithub.PrimaryLimit, Times: 1})
	trackedJourney(t, ns, gh)
	updatePhase(t, ns, improve.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "journey created" })
	expectKstatus(t, "ImprovementPhase", key, status.InProgressStatus, "rate limited")

	// Issues open once GitHub allows again: Current.
	// (Current once the plan is in status; its issues follow within the budget.)
	expectKstatus(t, "ImprovementPhase", key, status.CurrentStatus, "the quick wins tracked")
	g.Eventually(func() map[string]localgithub.Issue { return issuesOf(gh, "phase:improve") }).Should(HaveLen(4))

	// A new generation not yet seen is in progress.
	cx.stop()
	updatePhase(t, ns, improve.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "Digital" })
	expectKstatus(t, "ImprovementPhase", key, status.InProgressStatus, "a new generation before the controller saw it")
	startCxloop(t)
	expectKstatus(t, "ImprovementPhase", key, status.CurrentStatus, "the new generation tracked")

	// Credentials GitHub refuses: Failed until a person replaces them.
	var secret corev1.Secret
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "github-credentials"}, &secret)).To(Succeed())
	secret.Data = map[string][]byte{"token": []byte("ghp_thisTokenIsWrong000000000000000000000")}
	g.Expect(k8sClient.Update(ctx, &secret)).To(Succeed())
	updatePhase(t, ns, improve.Name, func(ph *cxv1.ImprovementPhase) { ph.Spec.Owner = "retry with the new token" })
	expectKstatus(t, "ImprovementPhase", key, status.FailedStatus, "bad credentials")
	g.Expect(kstatusOf(g, "ImprovementPhase", key).Message).NotTo(ContainSubstring("ghp_"), "a token in the status")
}
