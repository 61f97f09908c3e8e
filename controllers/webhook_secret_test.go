package controllers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cxloop/cxloop/internal/devenv"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/ghwebhook/ghwebhooktest"
)

// webhookEndpoint runs the manager's webhook endpoint on the watched
// Secret ns/name, as cmd/main.go wires it, with no controllers: nothing
// else in the manager reads Secrets.
func webhookEndpoint(t *testing.T, ns, name string) (url string, secrets *WebhookSecrets) {
	t.Helper()
	addr, err := devenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	startManager(t, func(mgr ctrl.Manager) error {
		var err error
		secrets, err = WatchWebhookSecret(context.Background(), mgr, ns, name)
		if err != nil {
			return err
		}
		hook := &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
		return addWebhookServer(mgr, addr, &ghwebhook.Handler{Secrets: secrets.Secrets, OnIssue: hook.OnIssue})
	})
	return "http://" + addr + WebhookPath, secrets
}

func webhookSecretObject(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// deliverSigned posts a valid `issues` payload signed with key; 0 when
// nothing answers.
func deliverSigned(t *testing.T, url string, key []byte) int {
	t.Helper()
	body := webhookFixture(t)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("rotation-%d", time.Now().UnixNano()))
	req.Header.Set("X-Hub-Signature-256", ghwebhooktest.Sign(key, body))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Log(err)
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func webhookFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "github", "webhooks", "issues.opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebhookSecretRotation: with the watched Secret, deliveries signed
// with the previous secret are accepted while its key previous-secret
// holds it, and refused (401) once the key is removed; the Secret's
// deletion refuses everything (503), and its return is followed.
func TestWebhookSecretRotation(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	const name = "github-webhook"
	oldKey, newKey := []byte("old-webhook-secret"), []byte("new-webhook-secret")
	sec := webhookSecretObject(ns, name, map[string]string{WebhookSecretKey: string(oldKey)})
	g.Expect(k8sClient.Create(ctx, sec)).To(Succeed())
	url, secrets := webhookEndpoint(t, ns, name)
	g.Eventually(secrets.Secrets).Should(HaveLen(1), "the cache follows the Secret")
	g.Expect(deliverSigned(t, url, oldKey)).To(Equal(http.StatusAccepted))
	g.Expect(deliverSigned(t, url, newKey)).To(Equal(http.StatusUnauthorized))

	// The rotation: the new secret in, the old one kept as previous.
	sec.Data = map[string][]byte{WebhookSecretKey: newKey, WebhookPreviousSecretKey: oldKey}
	g.Expect(k8sClient.Update(ctx, sec)).To(Succeed())
	g.Eventually(secrets.Secrets).Should(Equal([][]byte{newKey, oldKey}))
	g.Expect(deliverSigned(t, url, newKey)).To(Equal(http.StatusAccepted), "signed with the new secret during the rotation")
	g.Expect(deliverSigned(t, url, oldKey)).To(Equal(http.StatusAccepted), "signed with the previous secret during the rotation")

	// GitHub has the new secret: the previous one goes.
	delete(sec.Data, WebhookPreviousSecretKey)
	g.Expect(k8sClient.Update(ctx, sec)).To(Succeed())
	g.Eventually(secrets.Secrets).Should(Equal([][]byte{newKey}))
	g.Expect(deliverSigned(t, url, oldKey)).To(Equal(http.StatusUnauthorized), "signed with the previous secret after it was removed")
	g.Expect(deliverSigned(t, url, newKey)).To(Equal(http.StatusAccepted))

	g.Expect(k8sClient.Delete(ctx, sec)).To(Succeed())
	g.Eventually(secrets.Secrets).Should(BeEmpty())
	g.Expect(deliverSigned(t, url, newKey)).To(Equal(http.StatusServiceUnavailable), "no secret, nothing verified")
	g.Expect(k8sClient.Create(ctx, webhookSecretObject(ns, name, map[string]string{WebhookSecretKey: string(newKey)}))).To(Succeed())
	g.Eventually(func() int { return deliverSigned(t, url, newKey) }).Should(Equal(http.StatusAccepted))
}

// TestWebhookSecretIsTheOnlyOneWatched: the webhook's cache holds that one
// Secret, not its neighbours.
func TestWebhookSecretIsTheOnlyOneWatched(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	g.Expect(k8sClient.Create(ctx, webhookSecretObject(ns, "github-webhook-other", map[string]string{WebhookSecretKey: "other"}))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, webhookSecretObject(ns, "github-webhook", map[string]string{WebhookSecretKey: "mine"}))).To(Succeed())
	_, secrets := webhookEndpoint(t, ns, "github-webhook")
	g.Eventually(secrets.Secrets).Should(Equal([][]byte{[]byte("mine")}))
	g.Consistently(secrets.Secrets, time.Second).Should(Equal([][]byte{[]byte("mine")}))
}

// secretRequests counts the API server's requests for Secrets, of any
// verb, from its own /metrics (apiserver_request_total).
func secretRequests(t *testing.T) (total int, byVerb map[string]int) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byVerb = map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `resource="secrets"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("reading %q: %v", line, err)
		}
		verb := line[strings.Index(line, `verb="`)+6:]
		verb = verb[:strings.IndexByte(verb, '"')]
		byVerb[verb] += int(v)
		total += int(v)
	}
	return total, byVerb
}

// TestWebhookAbuseCostsNoSecretReads: issue 17's attack against the
// manager's endpoint with the watched Secret: at once and over and over
// for 8 s, a 400 MB body, 8 × 20 MB bogus-signed JSON bodies, 8 × 20 MB
// form-encoded ones and 8 slow senders, while GitHub delivers every
// 100 ms. The API server counts no request for a Secret meanwhile; the
// heap grows by less than 32 MiB; every valid delivery is accepted within 2 s.
func TestWebhookAbuseCostsNoSecretReads(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	key := []byte("abuse-webhook-secret")
	g.Expect(k8sClient.Create(ctx, webhookSecretObject(ns, "github-webhook", map[string]string{WebhookSecretKey: string(key)}))).To(Succeed())
	url, secrets := webhookEndpoint(t, ns, "github-webhook")
	g.Eventually(secrets.Secrets).Should(HaveLen(1))
	g.Eventually(func() int { return deliverSigned(t, url, key) }).Should(Equal(http.StatusAccepted))

	before, beforeByVerb := secretRequests(t)
	rep := ghwebhooktest.Attack{URL: url, Secret: key, Valid: webhookFixture(t)}.Run(ctx)
	after, afterByVerb := secretRequests(t)
	t.Logf("abuse against the manager's endpoint: %s", rep)
	t.Logf("Secret requests counted by the API server: %d before the attack, %d after (%v → %v)", before, after, beforeByVerb, afterByVerb)

	if after != before {
		t.Errorf("the attack cost %d Secret requests at the API server, want 0", after-before)
	}
	// The count is live: one read of the Secret shows.
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "github-webhook"}, &corev1.Secret{})).To(Succeed())
	if n, _ := secretRequests(t); n != after+1 {
		t.Errorf("one GET of a Secret counted as %d requests: the count does not tell", n-after)
	}
	rep.Check(t)
}

// TestFileWebhookSecrets: the secret files are re-read when they change;
// the previous one is accepted while its file exists.
func TestFileWebhookSecrets(t *testing.T) {
	defer func(d time.Duration) { fileCheckInterval = d }(fileCheckInterval)
	fileCheckInterval = 0 // look at every call
	dir := t.TempDir()
	current, previous := filepath.Join(dir, "secret"), filepath.Join(dir, "previous-secret")
	write := func(f, v string) {
		t.Helper()
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		// A new modification time even on a coarse clock.
		later := time.Now().Add(time.Duration(len(v)) * time.Second)
		_ = os.Chtimes(f, later, later)
	}
	write(current, "one\n")
	s, err := FileWebhookSecrets(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	g := NewWithT(t)
	g.Expect(s.Secrets()).To(Equal([][]byte{[]byte("one")}), "trailing newline trimmed; no previous file: none accepted")
	write(current, "two-two")
	write(previous, "one")
	g.Expect(s.Secrets()).To(Equal([][]byte{[]byte("two-two"), []byte("one")}))
	g.Expect(os.Remove(previous)).To(Succeed())
	g.Expect(s.Secrets()).To(Equal([][]byte{[]byte("two-two")}))
	g.Expect(os.Remove(current)).To(Succeed())
	g.Expect(s.Secrets()).To(Equal([][]byte{[]byte("two-two")}), "an unreadable file keeps what was read")
	if _, err := FileWebhookSecrets(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("a missing secret file is no error at start")
	}
}

// TestFollowerServesTheWatchedSecret: a replica that does not lead (the
// Lease is someone else's for an hour) still follows the webhook Secret
// and accepts deliveries; GitHub may reach any replica.
func TestFollowerServesTheWatchedSecret(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	key := []byte("follower-webhook-secret")
	g.Expect(k8sClient.Create(ctx, webhookSecretObject(ns, "github-webhook", map[string]string{WebhookSecretKey: string(key)}))).To(Succeed())
	const leaseName = "cxloop-follower-test"
	now := metav1.NewMicroTime(time.Now())
	g.Expect(k8sClient.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: leaseName},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("another-replica"), LeaseDurationSeconds: ptr.To[int32](3600), AcquireTime: &now, RenewTime: &now}})).To(Succeed())

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Cache: CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: controllerOptions(), LeaderElection: true, LeaderElectionID: leaseName, LeaderElectionNamespace: ns,
	})
	g.Expect(err).NotTo(HaveOccurred())
	mctx, cancel := context.WithCancel(ctx)
	secrets, err := WatchWebhookSecret(mctx, mgr, ns, "github-webhook")
	g.Expect(err).NotTo(HaveOccurred())
	addr, err := devenv.FreeAddr()
	g.Expect(err).NotTo(HaveOccurred())
	hook := &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	g.Expect(SetupIndexes(mctx, mgr)).To(Succeed())
	g.Expect(addWebhookServer(mgr, addr, &ghwebhook.Handler{Secrets: secrets.Secrets, OnIssue: hook.OnIssue})).To(Succeed())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() { cancel(); <-done }()

	g.Eventually(func() int { return deliverSigned(t, "http://"+addr+WebhookPath, key) }).Should(Equal(http.StatusAccepted))
	select {
	case <-mgr.Elected():
		t.Fatal("the manager was elected although the Lease is another's")
	default:
	}
}
