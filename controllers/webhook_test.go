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
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
	"github.com/cxloop/cxloop/internal/workitem"
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
	srv := httptest.NewServer(&ghwebhook.Handler{Secrets: func() [][]byte { return [][]byte{[]byte(webhookSecret)} }, OnIssue: hook.OnIssue})
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
	g.Expect(vanishedIssues(&cj)).To(HaveKeyWithValue(ns+"/shop/painpoint/p1#7", "deleted on GitHub"))
	g.Expect(cj.Annotations).To(HaveKeyWithValue(AnnotationGitHubDelivery, "d-2"))

	// The news of vanished issues stays bounded.
	for i := range maxVanishedIssues + 10 {
		g.Expect(hook.record(ctx, shop, fmt.Sprintf("d-v%d", i), &vanishedIssue{Key: fmt.Sprintf("%s/shop/painpoint/v%d", ns, i), Number: 100 + i, Repo: ghOwner + "/shop-repo", What: "deleted on GitHub"})).To(Succeed())
	}
	g.Expect(k8sClient.Get(ctx, shop, &cj)).To(Succeed())
	g.Expect(vanishedIssues(&cj)).To(HaveLen(maxVanishedIssues))
	g.Expect(vanishedIssues(&cj)).To(HaveKey(fmt.Sprintf("%s/shop/painpoint/v%d#%d", ns, maxVanishedIssues+9, 100+maxVanishedIssues+9)), "the newest is kept")
}

// TestLeaderWakesItsControllersWithoutWriting: on the replica that leads, a
// delivery reaches the controllers of the repository's journey at once,
// with no write to the journey; a replica that does not lead, or whose
// controllers lag far behind, records it on the journey instead; what
// vanished is recorded whoever leads.
func TestLeaderWakesItsControllersWithoutWriting(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	for _, name := range []string{"shop", "museum"} {
		cj := sampleJourney(t, ns)
		cj.Name = name
		cj.Spec.Tracker.GitHub.Repo = "leader-" + name
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	}
	shop := client.ObjectKey{Namespace: ns, Name: "shop"}
	var hook *IssueWebhook
	var cache interface{ WaitForCacheSync(context.Context) bool }
	elected := make(chan struct{})
	wakeups := NewWakeups(elected)
	startManager(t, func(mgr ctrl.Manager) error {
		hook = &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Wakeups: wakeups}
		cache = mgr.GetCache()
		return nil
	})
	g.Expect(cache.WaitForCacheSync(ctx)).To(BeTrue())
	version := func() string {
		var cj cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, shop, &cj)).To(Succeed())
		return cj.ResourceVersion + "/" + cj.Annotations[AnnotationGitHubDelivery]
	}
	closed := func(id string) ghwebhook.IssueEvent {
		return ghwebhook.IssueEvent{Action: "closed", Owner: ghOwner, Repo: "leader-shop", Number: 7, State: "closed", Delivery: id,
			Body: "x\n<!-- cxloop:key=" + ns + "/shop/painpoint/p1 -->"}
	}
	woken := func(ch chan event.GenericEvent) []string {
		var names []string
		for len(ch) > 0 {
			o := (<-ch).Object
			names = append(names, o.GetNamespace()+"/"+o.GetName())
		}
		return names
	}

	// Not (yet) the leader: recorded for the leader to see.
	g.Expect(hook.OnIssue(ctx, closed("d-follower"))).To(Succeed())
	g.Expect(version()).To(HaveSuffix("/d-follower"))
	g.Expect(woken(wakeups.journeys)).To(BeEmpty())

	// Leading: both controllers woken for the shop alone, and no write.
	close(elected)
	before := version()
	g.Expect(hook.OnIssue(ctx, closed("d-leader"))).To(Succeed())
	g.Expect(woken(wakeups.journeys)).To(Equal([]string{shop.String()}))
	g.Expect(woken(wakeups.phases)).To(Equal([]string{shop.String()}))
	g.Consistently(version, "500ms").Should(Equal(before), "the leader wrote to the journey to wake itself")

	// Controllers far behind: recorded rather than dropped.
	for range cap(wakeups.journeys) / 2 {
		wakeups.journeys <- event.GenericEvent{Object: &cxv1.CustomerJourney{}}
	}
	g.Expect(hook.OnIssue(ctx, closed("d-busy"))).To(Succeed())
	g.Expect(version()).To(HaveSuffix("/d-busy"))
	woken(wakeups.journeys)

	// A deleted issue is news only the webhook brings: recorded, even on the leader.
	deleted := closed("d-deleted")
	deleted.Action = "deleted"
	g.Expect(hook.OnIssue(ctx, deleted)).To(Succeed())
	var cj cxv1.CustomerJourney
	g.Expect(k8sClient.Get(ctx, shop, &cj)).To(Succeed())
	g.Expect(vanishedIssues(&cj)).To(HaveKeyWithValue(ns+"/shop/painpoint/p1#7", "deleted on GitHub"))
}

// TestDeliveryWakesOnlyTheIssuesJourney: journeys that share a repository
// are woken by the deliveries about their own issues (the key marker names
// the journey), not by each other's, nor by the repository's other issues
// or a made-up marker; a repository event, and a key shortened to a digest
// on an issue with cxloop's label, wake them all. Both ways: handed to the leader's controllers, and
// recorded on the journey by a replica that does not lead.
func TestDeliveryWakesOnlyTheIssuesJourney(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	ns := namespace(t)
	shared := "shared-" + ns
	for name, repo := range map[string]string{"shop": shared, "kiosk": shared, "museum": "museum-" + ns} {
		cj := sampleJourney(t, ns)
		cj.Name = name
		cj.Spec.Tracker.GitHub.Repo = repo
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	}
	var leader, follower *IssueWebhook
	var cache interface{ WaitForCacheSync(context.Context) bool }
	elected := make(chan struct{})
	close(elected)
	wakeups := NewWakeups(elected)
	startManager(t, func(mgr ctrl.Manager) error {
		leader = &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Wakeups: wakeups}
		follower = &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Wakeups: NewWakeups(make(chan struct{}))}
		cache = mgr.GetCache()
		return nil
	})
	g.Expect(cache.WaitForCacheSync(ctx)).To(BeTrue())

	closed := func(delivery, marker string, labels ...string) ghwebhook.IssueEvent {
		body := "Broken ticket machine."
		if marker != "" {
			body += "\n<!-- cxloop:key=" + marker + " -->"
		}
		return ghwebhook.IssueEvent{Action: "closed", Owner: ghOwner, Repo: shared, Number: 7, State: "closed", Delivery: delivery, Body: body, Labels: labels}
	}
	woken := func(ch chan event.GenericEvent) []string {
		var names []string
		for len(ch) > 0 {
			names = append(names, (<-ch).Object.GetName())
		}
		slices.Sort(names)
		return names
	}
	digest := workitem.TrackerKey(ns, strings.Repeat("j", 250), "painpoint/p1")
	g.Expect(workitem.IsDigestKey(digest)).To(BeTrue())
	for _, tc := range []struct {
		what, marker string
		labels       []string
		want         []string
	}{
		{"the shop's issue", ns + "/shop/painpoint/p1", []string{"cxloop"}, []string{"shop"}},
		{"the kiosk's issue", ns + "/kiosk/gap/stage-without-touchpoints/visit", []string{"cxloop", "quick win"}, []string{"kiosk"}},
		{"an issue without a marker", "", []string{"cxloop"}, nil},
		{"a made-up journey", ns + "/ghost/painpoint/p1", nil, nil},
		{"a journey of another repository", ns + "/museum/painpoint/p1", nil, nil},
		{"a journey whose name starts the same", ns + "/shopfront/painpoint/p1", nil, nil},
		{"a digest on cxloop's issue", digest, []string{"bug", "cxloop"}, []string{"kiosk", "shop"}},
		{"a digest on an issue without cxloop's label", digest, []string{"bug"}, nil},
		{"a digest on cxloop's label in another case", digest, []string{"CxLoop"}, []string{"kiosk", "shop"}},
		{"a made-up digest", "h/x", []string{"cxloop"}, nil},
	} {
		g.Expect(leader.OnIssue(ctx, closed("d-"+tc.what, tc.marker, tc.labels...))).To(Succeed())
		g.Expect(woken(wakeups.journeys)).To(Equal(tc.want), "journeys woken by %s", tc.what)
		g.Expect(woken(wakeups.phases)).To(Equal(tc.want), "phases woken by %s", tc.what)
	}
	g.Expect(leader.OnRepository(ctx, ghwebhook.RepositoryEvent{Action: "renamed", Owner: ghOwner, Repo: shared, OldRepo: "old", Delivery: "d-renamed"})).To(Succeed())
	g.Expect(woken(wakeups.journeys)).To(Equal([]string{"kiosk", "shop"}))
	woken(wakeups.phases)

	// A replica that does not lead writes the one journey concerned.
	delivery := func(name string) string {
		var cj cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cj)).To(Succeed())
		return cj.Annotations[AnnotationGitHubDelivery]
	}
	g.Expect(follower.OnIssue(ctx, closed("d-follower-kiosk", ns+"/kiosk/painpoint/p2"))).To(Succeed())
	g.Expect(follower.OnIssue(ctx, closed("d-follower-other", ""))).To(Succeed())
	g.Expect(delivery("kiosk")).To(Equal("d-follower-kiosk"))
	g.Expect(delivery("shop")).To(BeEmpty(), "the shop was written for the kiosk's issue or another")
	g.Expect(follower.OnIssue(ctx, closed("d-follower-forged-digest", digest, "bug"))).To(Succeed())
	g.Expect(delivery("shop")).To(BeEmpty(), "a digest marker without cxloop's label wrote the journeys")
	g.Expect(follower.OnIssue(ctx, closed("d-follower-digest", digest, "cxloop"))).To(Succeed())
	g.Expect(delivery("shop")).To(Equal("d-follower-digest"))
	g.Expect(delivery("kiosk")).To(Equal("d-follower-digest"))
	g.Expect(delivery("museum")).To(BeEmpty())
}

// TestWokenPhasesGoBackToRoutine: a requeue after a reconcile that a
// webhook put ahead of the queue is a routine one again.
func TestWokenPhasesGoBackToRoutine(t *testing.T) {
	for _, tc := range []struct {
		inner reconcile.Result
		want  int
	}{
		{reconcile.Result{RequeueAfter: time.Second}, 0},
		{reconcile.Result{RequeueAfter: time.Second, Priority: ptr.To(7)}, 7},
	} {
		r := routineRequeues(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return tc.inner, nil }))
		res, _ := r.Reconcile(context.Background(), reconcile.Request{})
		if res.Priority == nil || *res.Priority != tc.want || res.RequeueAfter != time.Second {
			t.Errorf("%+v became %+v, want priority %d", tc.inner, res, tc.want)
		}
	}
}
