package controllers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cxloop/cxloop/internal/pageauth"
)

// The status page asks envtest's kube-apiserver, which authorises with
// RBAC, who a reader is (TokenReview) and what they may list
// (SubjectAccessReview).

// pageWorld is two namespaces with a journey each, and their readers.
type pageWorld struct {
	a, b        string // namespaces
	viewerToken string // ServiceAccount viewer in a, may list journeys in a
	strangerTok string // ServiceAccount stranger in b, bound to nothing
}

func setupPageWorld(t *testing.T) pageWorld {
	t.Helper()
	ctx := context.Background()
	w := pageWorld{a: namespace(t), b: namespace(t)}
	for _, ns := range []string{w.a, w.b} {
		cj := sampleJourney(t, ns)
		cj.Name = "journey-in-" + ns
		if err := k8sClient.Create(ctx, cj); err != nil {
			t.Fatal(err)
		}
	}
	// The viewer may list journeys in a only.
	w.viewerToken = serviceAccountToken(t, w.a, "viewer")
	w.strangerTok = serviceAccountToken(t, w.b, "stranger")
	allowList(t, w.a, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "viewer", Namespace: w.a})
	return w
}

// allowList lets subject list customerjourneys in ns (a Role and its
// RoleBinding, as docs/operations.md shows).
func allowList(t *testing.T, ns string, subject rbacv1.Subject) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "journey-viewer-"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"cx.cxloop.dev"}, Resources: []string{"customerjourneys", "improvementphases"}, Verbs: []string{"get", "list", "watch"}}}}
	if err := k8sClient.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "journey-viewer-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{subject}}
	if err := k8sClient.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
}

// serviceAccountToken creates ServiceAccount ns/name and returns a token of
// it from the TokenRequest API (kubectl create token).
func serviceAccountToken(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := k8sClient.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))}}
	if err := k8sClient.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" {
		t.Fatal("TokenRequest returned no token")
	}
	return tr.Status.Token
}

// startStatusPage runs a manager with only the status page's cache, and
// serves the page on 127.0.0.1.
func startStatusPage(t *testing.T, auth StatusPageAuth) *httptest.Server {
	t.Helper()
	var page http.Handler
	var started ctrl.Manager
	startManager(t, func(mgr ctrl.Manager) error {
		var err error
		started = mgr
		page, err = StatusPage(mgr, auth, time.Now)
		return err
	})
	// The page answers 503 until the manager's cache has synced (a pod
	// that just started); the tests read it once it has.
	syncCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !started.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("the manager's cache did not sync")
	}
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	return srv
}

func fetchPage(t *testing.T, srv *httptest.Server, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// apiNames lists the journeys of /api/v1/journeys as namespace/name.
func apiNames(t *testing.T, body string) []string {
	t.Helper()
	var doc struct {
		Programme struct {
			Phases int `json:"phases"`
		} `json:"programme"`
		Journeys []struct{ Namespace, Name string } `json:"journeys"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	var out []string
	for _, j := range doc.Journeys {
		out = append(out, j.Namespace+"/"+j.Name)
	}
	return out
}

// seesOnly checks that the reader sees journeys of namespace want and none of
// namespaces not, in the HTML and the JSON, the index and each journey.
func seesOnly(t *testing.T, srv *httptest.Server, header map[string]string, want string, not ...string) {
	t.Helper()
	res, index := fetchPage(t, srv, "/", header)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", res.StatusCode, index)
	}
	if !strings.Contains(index, `data-journey="`+want+`/journey-in-`+want+`"`) {
		t.Errorf("the index lacks the journey of %s", want)
	}
	if !strings.Contains(index, `<span class="muted">Journeys</span><b>1</b>`) {
		t.Errorf("the index does not count one journey: %s", textBetween(index, `class="tiles"`, `</section>`))
	}
	res, api := fetchPage(t, srv, "/api/v1/journeys", header)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/journeys: %d\n%s", res.StatusCode, api)
	}
	if got := apiNames(t, api); len(got) != 1 || got[0] != want+"/journey-in-"+want {
		t.Errorf("the JSON lists %v, want only %s's journey", got, want)
	}
	for _, path := range []string{"/journeys/", "/api/v1/journeys/"} {
		if res, _ := fetchPage(t, srv, path+want+"/journey-in-"+want, header); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s of the visible journey: %d", path, res.StatusCode)
		}
	}
	for _, ns := range not {
		if strings.Contains(index, ns) || strings.Contains(api, ns) {
			t.Errorf("the index or the JSON names namespace %s", ns)
		}
		for _, path := range []string{"/journeys/", "/api/v1/journeys/"} {
			res, body := fetchPage(t, srv, path+ns+"/journey-in-"+ns, header)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s%s/…: %d, want 404 as for a journey that does not exist", path, ns, res.StatusCode)
			}
			if strings.Contains(body, "forbidden") || strings.Contains(body, "Forbidden") {
				t.Errorf("the 404 of %s says it exists: %s", ns, body)
			}
		}
	}
}

func textBetween(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	if k := strings.Index(s[i:], to); k >= 0 {
		return s[i : i+k]
	}
	return s[i:]
}

func TestStatusPageTokenMode(t *testing.T) {
	w := setupPageWorld(t)
	srv := startStatusPage(t, StatusPageAuth{Mode: pageauth.ModeToken})

	for _, path := range []string{"/", "/api/v1/journeys", "/journeys/" + w.a + "/journey-in-" + w.a, "/api/v1/journeys/" + w.a + "/journey-in-" + w.a} {
		res, body := fetchPage(t, srv, path, nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("anonymous GET %s: %d WWW-Authenticate %q, want 401 Bearer", path, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		if strings.Contains(body, "journey-in-") {
			t.Errorf("anonymous GET %s shows a journey", path)
		}
	}
	if res, _ := fetchPage(t, srv, "/", map[string]string{"Authorization": "Bearer not-a-token"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a made-up token: %d, want 401", res.StatusCode)
	}
	if res, _ := fetchPage(t, srv, "/healthz", nil); res.StatusCode != http.StatusOK {
		t.Errorf("/healthz needs no token: %d", res.StatusCode)
	}

	seesOnly(t, srv, map[string]string{"Authorization": "Bearer " + w.viewerToken}, w.a, w.b)

	// A valid token of one allowed nowhere sees an empty page, not an error.
	res, body := fetchPage(t, srv, "/api/v1/journeys", map[string]string{"Authorization": "Bearer " + w.strangerTok})
	if res.StatusCode != http.StatusOK || len(apiNames(t, body)) != 0 {
		t.Errorf("a ServiceAccount allowed nowhere: %d, %v", res.StatusCode, apiNames(t, body))
	}
	if res, _ := fetchPage(t, srv, "/journeys/"+w.b+"/journey-in-"+w.b, map[string]string{"Authorization": "Bearer " + w.strangerTok}); res.StatusCode != http.StatusNotFound {
		t.Errorf("the stranger's own namespace without RBAC: %d, want 404", res.StatusCode)
	}
}

func TestStatusPageProxyMode(t *testing.T) {
	w := setupPageWorld(t)
	// alice may list journeys in b; the group cx-leads everywhere.
	allowList(t, w.b, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice@example.com"})
	ctx := context.Background()
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{GenerateName: "journey-viewer-"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"cx.cxloop.dev"}, Resources: []string{"customerjourneys"}, Verbs: []string{"list"}}}}
	if err := k8sClient.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	group := "cx-leads-" + w.a
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "journey-viewer-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}}}
	if err := k8sClient.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, crb); _ = k8sClient.Delete(ctx, cr) })

	trusted := startStatusPage(t, StatusPageAuth{Mode: pageauth.ModeProxy, ProxyTrusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	alice := map[string]string{"X-Forwarded-User": "alice@example.com", "X-Forwarded-Groups": "staff, visitors"}
	seesOnly(t, trusted, alice, w.b, w.a)

	if res, _ := fetchPage(t, trusted, "/", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no identity headers from the proxy: %d, want 401", res.StatusCode)
	}
	// A group allowed cluster-wide sees both namespaces.
	res, body := fetchPage(t, trusted, "/api/v1/journeys", map[string]string{"X-Forwarded-User": "bob", "X-Forwarded-Groups": "staff," + group})
	if got := apiNames(t, body); res.StatusCode != http.StatusOK || !contains(got, w.a+"/journey-in-"+w.a) || !contains(got, w.b+"/journey-in-"+w.b) {
		t.Errorf("a member of %s: %d %v, want both namespaces", group, res.StatusCode, got)
	}

	// The same headers from an address that is not the proxy's.
	untrusted := startStatusPage(t, StatusPageAuth{Mode: pageauth.ModeProxy, ProxyTrusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, path := range []string{"/", "/api/v1/journeys", "/journeys/" + w.b + "/journey-in-" + w.b} {
		if res, body := fetchPage(t, untrusted, path, alice); res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "journey-in-") {
			t.Errorf("identity headers from an untrusted address, GET %s: %d, want 401", path, res.StatusCode)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestStatusPageReviewsAreCached checks that page loads of one reader cost
// one TokenReview and the SubjectAccessReviews of one page load, and that
// the cache holds no token.
func TestStatusPageReviewsAreCached(t *testing.T) {
	w := setupPageWorld(t)
	var tokenReviews, accessReviews atomic.Int32
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	counting := interceptor.NewClient(direct, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			switch obj.(type) {
			case *authnv1.TokenReview:
				tokenReviews.Add(1)
			case *authzv1.SubjectAccessReview:
				accessReviews.Add(1)
			}
			return c.Create(ctx, obj, opts...)
		},
	})
	gate := pageauth.Kubernetes{Authenticator: &pageauth.TokenReviewer{Client: counting}, AccessReviewer: &pageauth.AccessReviewer{Client: counting}}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+w.viewerToken)
	var first int32
	for i := range 10 {
		id, err := gate.Authenticate(req)
		if err != nil {
			t.Fatal(err)
		}
		if id.User != "system:serviceaccount:"+w.a+":viewer" {
			t.Fatalf("the token is of %q", id.User)
		}
		scope, err := gate.Authorize(context.Background(), id, []string{w.a, w.b})
		if err != nil {
			t.Fatal(err)
		}
		if !scope.Allows(w.a) || scope.Allows(w.b) || scope.All() {
			t.Fatalf("the viewer's scope: a %v, b %v, all %v", scope.Allows(w.a), scope.Allows(w.b), scope.All())
		}
		if i == 0 {
			first = accessReviews.Load()
		}
	}
	if n := tokenReviews.Load(); n != 1 {
		t.Errorf("10 page loads asked %d TokenReviews, want 1", n)
	}
	if n := accessReviews.Load(); n != 3 || first != 3 {
		t.Errorf("10 page loads asked %d SubjectAccessReviews (%d on the first), want 3: cluster scope, then a and b", n, first)
	}
}

// TestStatusPageModesAtStart: the open page says so in the log, whatever
// the log level; proxy mode without trusted addresses does not start.
func TestStatusPageModesAtStart(t *testing.T) {
	var logged []string
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Logger: funcr.New(func(prefix, args string) { logged = append(logged, prefix+" "+args) }, funcr.Options{Verbosity: 0})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StatusPage(mgr, StatusPageAuth{Mode: pageauth.ModeNone}, time.Now); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "no authentication") || !strings.Contains(logged[0], "every namespace") {
		t.Errorf("the open page logged %q", logged)
	}
	logged = nil
	if _, err := StatusPage(mgr, StatusPageAuth{Mode: pageauth.ModeToken}, time.Now); err != nil || len(logged) != 0 {
		t.Errorf("token mode: %v, logged %q", err, logged)
	}
	if _, err := StatusPage(mgr, StatusPageAuth{Mode: pageauth.ModeProxy}, time.Now); err == nil || !strings.Contains(err.Error(), "--status-page-proxy-trusted-cidrs") {
		t.Errorf("proxy mode without trusted addresses: %v, want an error naming the flag", err)
	}
	if _, err := StatusPage(mgr, StatusPageAuth{Mode: "oidc"}, time.Now); err == nil || !strings.Contains(err.Error(), "--status-page-auth") {
		t.Errorf("an unknown mode: %v", err)
	}
}
