package controllers

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestManagerWorksWithItsOwnRights runs cxloop as its ServiceAccount, with
// no rights but those config/rbac grants (generated from the RBAC markers),
// bound as the namespaced install binds them: the journeys' rules in one
// watched namespace only, the manager's own Secrets and Lease in its own.
// It opens a phase's issues and writes status and Events there, elected
// leader through its Lease, without one answer of 403 Forbidden; a journey
// in a namespace it does not watch stays untouched.
func TestManagerWorksWithItsOwnRights(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	own, watched, other := namespace(t), namespace(t), namespace(t)
	sa := "system:serviceaccount:" + own + ":cxloop-controller-manager"

	manager := readRoles(t, filepath.Join("..", "config", "rbac", "role.yaml"))
	election := readRoles(t, filepath.Join("..", "config", "rbac", "leader_election_role.yaml"))
	clusterRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cxloop-rbac-test-" + own}, Rules: manager["ClusterRole"]}
	ownRole := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: own, Name: "cxloop-manager"}, Rules: append(manager["Role"], election["Role"]...)}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "cxloop-controller-manager", Namespace: own}}
	for _, o := range []client.Object{
		clusterRole, ownRole,
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: "cxloop-manager"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole.Name}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: own, Name: "cxloop-manager"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ownRole.Name}},
	} {
		g.Expect(k8sClient.Create(ctx, o)).To(Succeed())
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, clusterRole) })
	// RBAC's authorizer reads bindings from an informer.
	g.Eventually(func(g Gomega) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: sa,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: watched, Verb: "watch", Group: cxv1.GroupVersion.Group, Resource: "customerjourneys"}}}
		g.Expect(k8sClient.Create(ctx, sar)).To(Succeed())
		g.Expect(sar.Status.Allowed).To(BeTrue())
	}).Should(Succeed())

	forbidden := &forbiddenRecorder{}
	asManager := rest.CopyConfig(cfg)
	asManager.Impersonate = rest.ImpersonationConfig{UserName: sa, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + own, "system:authenticated"}}
	asManager.WrapTransport = forbidden.wrap
	cacheOptions := CacheOptions()
	if err := WatchNamespaces(&cacheOptions, watched); err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(asManager, ctrl.Options{
		Scheme: scheme, Cache: cacheOptions,
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller:     controllerOptions(),
		LeaderElection: true, LeaderElectionID: "cxloop.cx.cxloop.dev", LeaderElectionNamespace: own, LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	t.Cleanup(func() { cancel(); <-done })
	g.Expect(SetupIndexes(mctx, mgr)).To(Succeed())
	// Credentials through the label-selected cache: the manager has no right
	// to get a Secret by name in a journey's namespace.
	trackers := &Trackers{Reader: mgr.GetClient(), APIReader: mgr.GetAPIReader(), WritesPerMinute: 600, WritesPerHour: 36000, HTTPClient: &http.Client{Timeout: 2 * time.Second},
		allowedHostsNow: localGitHubHosts.list}
	recorder := mgr.GetEventRecorder("cxloop")
	g.Expect((&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).
		SetupWithManager(mgr, controller.Options{})).To(Succeed())
	g.Expect((&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: clock.RealClock{}, Trackers: trackers, CreateGrace: 2 * time.Second}).
		SetupWithManager(mgr, controller.Options{})).To(Succeed())
	go func() { done <- mgr.Start(mctx) }()

	gh := githubServer(t)
	for _, ns := range []string{watched, other} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-credentials", Labels: map[string]string{"cx.cxloop.dev/credentials": "github"}},
			StringData: map[string]string{"token": ghToken}}
		g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		cj := sampleJourney(t, ns)
		cj.Spec.Tracker.GitHub.APIURL = gh.URL()
		g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
		for _, ph := range samplePhases(t, ns) {
			g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())
		}
	}

	g.Eventually(func(g Gomega) {
		if refused := forbidden.all(); len(refused) > 0 {
			StopTrying("the manager's rights refused " + strings.Join(refused, ", ")).Now()
		}
		ph := getPhase(g, watched, "nature-park-discovery")
		g.Expect(ph.Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(ph.Status.Items).To(HaveLen(2))
		for _, it := range ph.Status.Items {
			g.Expect(it.Issue).NotTo(BeZero(), "item %s has its issue", it.Key)
		}
		var cj cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: watched, Name: "nature-park-visit"}, &cj)).To(Succeed())
		g.Expect(cj.Status.Conditions).NotTo(BeEmpty())
		var events eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &events, client.InNamespace(watched))).To(Succeed())
		g.Expect(events.Items).NotTo(BeEmpty())
	}).Should(Succeed())
	g.Expect(mgr.Elected()).To(BeClosed(), "elected leader through its Lease")
	for _, key := range []string{"nature-park-discovery"} {
		ph := getPhase(g, other, key)
		g.Expect(ph.Status.State).To(BeEmpty(), "a phase in a namespace cxloop does not watch is untouched")
	}
	var unwatched cxv1.CustomerJourney
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: other, Name: "nature-park-visit"}, &unwatched)).To(Succeed())
	g.Expect(unwatched.Status.Conditions).To(BeEmpty())
	g.Expect(forbidden.all()).To(BeEmpty(), "requests the manager's rights refused")
	t.Logf("%d requests as the manager, none forbidden", forbidden.count())
}

// readRoles reads the rules of the Roles and ClusterRoles in a manifest,
// by kind.
func readRoles(t *testing.T, path string) map[string][]rbacv1.PolicyRule {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]rbacv1.PolicyRule{}
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var r struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := dec.Decode(&r); err != nil {
			break
		}
		out[r.Kind] = append(out[r.Kind], r.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no roles", path)
	}
	return out
}

// forbiddenRecorder keeps the requests the API server answered with 403.
type forbiddenRecorder struct {
	mu       sync.Mutex
	refused  []string
	requests int
}

func (f *forbiddenRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		if err == nil && resp.StatusCode == http.StatusForbidden {
			f.refused = append(f.refused, req.Method+" "+strings.SplitN(req.URL.RequestURI(), "?", 2)[0])
		}
		return resp, err
	})
}

func (f *forbiddenRecorder) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

func (f *forbiddenRecorder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

type roundTripper func(*http.Request) (*http.Response, error)

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return r(req) }
