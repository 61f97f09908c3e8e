package controllers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
)

// countingHost is a host that answers every request with a text of its
// own, and counts what it receives.
type countingHost struct {
	*httptest.Server
	requests atomic.Int64
}

const foreignAnswer = "internal-admin-panel v2.3 at 10.0.0.7 says hello"

func newCountingHost(t *testing.T, status int) *countingHost {
	h := &countingHost{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": foreignAnswer, "documentation_url": "http://10.0.0.7/docs"})
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *countingHost) host(t *testing.T) string {
	u, err := url.Parse(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// journeyCondition waits for the journey's condition typ and returns it.
func journeyCondition(g Gomega, key client.ObjectKey, typ string) *metav1.Condition {
	c := meta.FindStatusCondition(getJourney(g, key).Status.Conditions, typ)
	g.Expect(c).NotTo(BeNil(), "condition %s", typ)
	return c
}

// statusText is the journey's whole status as JSON, to look for leaks in.
func statusText(g Gomega, key client.ObjectKey) string {
	raw, err := json.Marshal(getJourney(g, key).Status)
	g.Expect(err).NotTo(HaveOccurred())
	return string(raw)
}

// TestCredentialsGoOnlyWhereAllowed: a tenant who may edit a journey cannot
// make cxloop send the namespace's credentials to a host the admin did not
// allow, nor use a Secret that did not opt in or a service-account token;
// and what an allowed host answers is not copied into status.
func TestCredentialsGoOnlyWhereAllowed(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	startCxloop(t)
	ns := namespace(t)
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()},
		StringData: map[string]string{"token": ghToken}})).To(Succeed())

	t.Run("a host that is not allowed receives nothing", func(t *testing.T) {
		g := eventually(t)
		probe := newCountingHost(t, http.StatusOK)
		cj := sampleJourney(t, ns)
		cj.Name = "to-a-stranger"
		cj.Spec.Tracker.GitHub.APIURL = probe.URL + "/api/v3/"
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		key := client.ObjectKeyFromObject(cj)
		g.Eventually(func(g Gomega) {
			c := journeyCondition(g, key, cxv1.ConditionStalled)
			g.Expect(c.Reason).To(Equal(cxv1.ReasonHostNotAllowed))
			g.Expect(c.Message).To(ContainSubstring("spec.tracker.github.apiURL"))
			g.Expect(c.Message).To(ContainSubstring(probe.host(t)))
			g.Expect(c.Message).To(ContainSubstring("--github-allowed-hosts"))
		}).Should(Succeed())
		g.Consistently(probe.requests.Load).Should(BeZero())
		t.Logf("requests received by the host that is not allowed: %d", probe.requests.Load())
	})

	t.Run("https only, except to loopback", func(t *testing.T) {
		g := eventually(t)
		cj := sampleJourney(t, ns)
		cj.Name = "plain-http"
		cj.Spec.Tracker.GitHub.APIURL = "http://github.example.com/api/v3/"
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		g.Eventually(func(g Gomega) {
			c := journeyCondition(g, client.ObjectKeyFromObject(cj), cxv1.ConditionStalled)
			g.Expect(c.Reason).To(Equal(cxv1.ReasonHostNotAllowed))
			g.Expect(c.Message).To(ContainSubstring("spec.tracker.github.apiURL"))
			g.Expect(c.Message).To(ContainSubstring("https only"))
		}).Should(Succeed())
	})

	t.Run("the Secret narrows the hosts further", func(t *testing.T) {
		g := eventually(t)
		before := len(gh.Requests())
		g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-com-only", Labels: credentialsLabels()},
			StringData: map[string]string{"token": ghToken, tracker.SecretKeyAllowedHosts: "api.github.com"}})).To(Succeed())
		cj := sampleJourney(t, ns)
		cj.Name = "narrowed"
		cj.Spec.Tracker.GitHub.APIURL = gh.URL()
		cj.Spec.Tracker.GitHub.SecretRef.Name = "github-com-only"
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		g.Eventually(func(g Gomega) {
			c := journeyCondition(g, client.ObjectKeyFromObject(cj), cxv1.ConditionStalled)
			g.Expect(c.Reason).To(Equal(cxv1.ReasonHostNotAllowed))
			g.Expect(c.Message).To(ContainSubstring("spec.tracker.github.apiURL"))
			g.Expect(c.Message).To(ContainSubstring(`key "allowedHosts"`))
		}).Should(Succeed())
		g.Expect(gh.Requests()).To(HaveLen(before), "no request may reach the host the Secret does not allow")
	})

	t.Run("a Secret without the opt-in label is refused", func(t *testing.T) {
		g := eventually(t)
		g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "admins-token"},
			StringData: map[string]string{"token": ghToken}})).To(Succeed())
		cj := sampleJourney(t, ns)
		cj.Name = "borrowed-secret"
		cj.Spec.Tracker.GitHub.APIURL = gh.URL()
		cj.Spec.Tracker.GitHub.SecretRef.Name = "admins-token"
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		// Refused, but waiting (not Stalled): labelling a Secret is often a
		// step of its own, and the label's arrival heals the journey.
		g.Eventually(func(g Gomega) {
			c := journeyCondition(g, client.ObjectKeyFromObject(cj), cxv1.ConditionReconciling)
			g.Expect(c.Reason).To(Equal(cxv1.ReasonSecretRefused))
			g.Expect(c.Message).To(ContainSubstring(ns + "/admins-token"))
			g.Expect(c.Message).To(ContainSubstring("cx.cxloop.dev/credentials=github"))
			t.Logf("condition: %s", c.Message)
		}).Should(Succeed())
		g.Expect(meta.FindStatusCondition(getJourney(g, client.ObjectKeyFromObject(cj)).Status.Conditions, cxv1.ConditionStalled)).To(BeNil())
		var sec corev1.Secret
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "admins-token"}, &sec)).To(Succeed())
		sec.Labels = credentialsLabels()
		g.Expect(k8sClient.Update(ctx, &sec)).To(Succeed())
		g.Eventually(func(g Gomega) {
			g.Expect(meta.IsStatusConditionTrue(getJourney(g, client.ObjectKeyFromObject(cj)).Status.Conditions, cxv1.ConditionTrackerReady)).To(BeTrue())
		}).Should(Succeed())
	})

	t.Run("a service-account token Secret is refused", func(t *testing.T) {
		g := eventually(t)
		g.Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-token", Labels: credentialsLabels(),
				Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
			Type: corev1.SecretTypeServiceAccountToken, StringData: map[string]string{"token": "eyJhbGciOiJSUzI1NiJ9.cluster.token"}})).To(Succeed())
		cj := sampleJourney(t, ns)
		cj.Name = "cluster-token"
		cj.Spec.Tracker.GitHub.APIURL = gh.URL()
		cj.Spec.Tracker.GitHub.SecretRef.Name = "default-token"
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		g.Eventually(func(g Gomega) {
			c := journeyCondition(g, client.ObjectKeyFromObject(cj), cxv1.ConditionStalled)
			g.Expect(c.Reason).To(Equal(cxv1.ReasonSecretRefused))
			g.Expect(c.Message).To(ContainSubstring(ns + "/default-token"))
			g.Expect(c.Message).To(ContainSubstring("kubernetes.io/service-account-token"))
			t.Logf("condition: %s", c.Message)
		}).Should(Succeed())
	})

	t.Run("an allowed host's answer text is not copied into status", func(t *testing.T) {
		g := eventually(t)
		for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusInternalServerError} {
			host := newCountingHost(t, status)
			localGitHubHosts.add(host.host(t))
			cj := sampleJourney(t, ns)
			cj.Name = "answers-" + itoa(status)
			cj.Spec.Tracker.GitHub.APIURL = host.URL + "/"
			g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
			key := client.ObjectKeyFromObject(cj)
			g.Eventually(func(g Gomega) {
				c := journeyCondition(g, key, cxv1.ConditionTrackerReady)
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Message).To(ContainSubstring(itoa(status)))
				t.Logf("%d: %s: %s", status, c.Reason, c.Message)
			}).Should(Succeed())
			g.Expect(host.requests.Load()).To(BeNumerically(">", 0))
			g.Expect(statusText(g, key)).NotTo(ContainSubstring("10.0.0.7"))
			g.Expect(statusText(g, key)).NotTo(ContainSubstring("admin-panel"))
		}
	})
}

// TestJourneyAppliedBeforeItsSecret: GitOps tools apply in any order. A
// journey whose Secret is not there yet waits (Reconciling, not Stalled,
// which would make kstatus readers give up) and connects within seconds of
// the Secret's creation, because cxloop watches credentials Secrets.
func TestJourneyAppliedBeforeItsSecret(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	startCxloop(t)
	ns := namespace(t)
	cj := sampleJourney(t, ns)
	cj.Spec.Tracker.GitHub.APIURL = gh.URL()
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	key := client.ObjectKeyFromObject(cj)
	g.Eventually(func(g Gomega) {
		conds := getJourney(g, key).Status.Conditions
		g.Expect(meta.FindStatusCondition(conds, cxv1.ConditionStalled)).To(BeNil())
		rc := meta.FindStatusCondition(conds, cxv1.ConditionReconciling)
		g.Expect(rc).NotTo(BeNil())
		g.Expect(rc.Reason).To(Equal(cxv1.ReasonSecretNotFound))
		ready := meta.FindStatusCondition(conds, cxv1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Message).To(ContainSubstring("spec.tracker.github.secretRef"))
	}).Should(Succeed())
	// It stays that way, and is never Stalled, while the Secret is missing.
	g.Consistently(func(g Gomega) {
		g.Expect(meta.FindStatusCondition(getJourney(g, key).Status.Conditions, cxv1.ConditionStalled)).To(BeNil())
	}).Should(Succeed())

	created := time.Now()
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: credentialsLabels()},
		StringData: map[string]string{"token": "ghp_notYetValid0000000000000000000000000"}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := journeyCondition(g, key, cxv1.ConditionTrackerReady)
		g.Expect(c.Reason).To(Equal(cxv1.ReasonBadCredentials))
	}).Should(Succeed())
	connected := time.Since(created)
	t.Logf("the Secret's creation was seen after %s", connected.Round(time.Millisecond))
	g.Expect(connected).To(BeNumerically("<=", 5*time.Second), "the journey must react to its Secret within 5s")

	// Rotation: the right token is picked up as fast.
	var secret corev1.Secret
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "github-credentials"}, &secret)).To(Succeed())
	secret.Data["token"] = []byte(ghToken)
	rotated := time.Now()
	g.Expect(k8sClient.Update(ctx, &secret)).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := journeyCondition(g, key, cxv1.ConditionTrackerReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}).Should(Succeed())
	connected = time.Since(rotated)
	t.Logf("connected %s after the Secret's rotation", connected.Round(time.Millisecond))
	g.Expect(connected).To(BeNumerically("<=", 5*time.Second), "the journey must connect within 5s of its Secret's rotation")
}
