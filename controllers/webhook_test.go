package controllers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
)

// TestWebhookWakesOnlyTheRightJourney: a verified delivery is recorded on
// the journeys of its repository and nowhere else; a delivery for another
// repository, a forged one and a replay change nothing; a deleted issue's
// fate is kept for the leader.
func TestWebhookWakesOnlyTheRightJourney(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	journeyIn := func(name, repo string) client.ObjectKey {
		cj := sampleJourney(t, ns)
		cj.Name = name
		cj.Spec.Tracker.GitHub.Repo = repo
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		return client.ObjectKeyFromObject(cj)
	}
	shop, museum := journeyIn("shop", "shop-repo"), journeyIn("museum", "museum-repo")
	// The webhook reads journeys from a manager's cache, by repository.
	var hook *IssueWebhook
	var cache interface {
		WaitForCacheSync(context.Context) bool
	}
	startManager(t, func(mgr ctrl.Manager) error {
		hook = &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
		cache = mgr.GetCache()
		return nil
	})
	g.Expect(cache.WaitForCacheSync(ctx)).To(BeTrue())
	srv := httptest.NewServer(&ghwebhook.Handler{Secret: func() ([]byte, error) { return []byte(webhookSecret), nil }, OnIssue: hook.OnIssue})
	t.Cleanup(srv.Close)

	deliver := func(id, repo, action, signature string) int {
		body := []byte(fmt.Sprintf(`{"action":%q,"issue":{"number":7,"state":"closed","body":"x\n<!-- cxloop:key=%s/shop/painpoint/p1 -->"},"repository":{"name":%q,"owner":{"login":%q}}}`, action, ns, repo, ghOwner))
		if signature == "" {
			m := hmac.New(sha256.New, []byte(webhookSecret))
			m.Write(body)
			signature = "sha256=" + hex.EncodeToString(m.Sum(nil))
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := http.DefaultClient.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		return resp.StatusCode
	}
	annotations := func(key client.ObjectKey) map[string]string {
		var cj cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, key, &cj)).To(Succeed())
		return cj.Annotations
	}
	versions := func() [2]string {
		var a, b cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, shop, &a)).To(Succeed())
		g.Expect(k8sClient.Get(ctx, museum, &b)).To(Succeed())
		return [2]string{a.ResourceVersion, b.ResourceVersion}
	}

	before := versions()
	g.Expect(deliver("d-forged", "shop-repo", "closed", "sha256="+hex.EncodeToString(make([]byte, 32)))).To(Equal(http.StatusUnauthorized))
	g.Expect(deliver("d-other", "unknown-repo", "closed", "")).To(Equal(http.StatusAccepted))
	g.Expect(versions()).To(Equal(before), "a forged delivery or one for another repository changed a journey")

	g.Expect(deliver("d-1", "shop-repo", "closed", "")).To(Equal(http.StatusAccepted))
	g.Expect(annotations(shop)).To(HaveKeyWithValue(AnnotationGitHubDelivery, "d-1"))
	g.Expect(annotations(museum)).NotTo(HaveKey(AnnotationGitHubDelivery))

	afterFirst := versions()
	g.Expect(deliver("d-1", "shop-repo", "closed", "")).To(Equal(http.StatusOK), "a replay is accepted once")
	g.Expect(versions()).To(Equal(afterFirst), "a replay changed a journey")

	g.Expect(deliver("d-2", "shop-repo", "deleted", "")).To(Equal(http.StatusAccepted))
	var cj cxv1.CustomerJourney
	g.Expect(k8sClient.Get(ctx, shop, &cj)).To(Succeed())
	g.Expect(vanishedIssues(&cj)).To(HaveKeyWithValue(ns+"/shop/painpoint/p1", "deleted on GitHub"))
	g.Expect(cj.Annotations).To(HaveKeyWithValue(AnnotationGitHubDelivery, "d-2"))

	// The news of vanished issues stays bounded.
	for i := range maxVanishedIssues + 10 {
		g.Expect(hook.record(ctx, shop, fmt.Sprintf("d-v%d", i), fmt.Sprintf("%s/shop/painpoint/v%d", ns, i), "deleted on GitHub")).To(Succeed())
	}
	g.Expect(k8sClient.Get(ctx, shop, &cj)).To(Succeed())
	g.Expect(vanishedIssues(&cj)).To(HaveLen(maxVanishedIssues))
	g.Expect(vanishedIssues(&cj)).To(HaveKey(fmt.Sprintf("%s/shop/painpoint/v%d", ns, maxVanishedIssues+9)), "the newest is kept")
}
