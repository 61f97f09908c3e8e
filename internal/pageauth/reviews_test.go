package pageauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// reviews is a client that answers TokenReviews and SubjectAccessReviews
// with answer, counting them; it has no other method.
type reviews struct {
	client.Client
	answer func(obj client.Object) error

	mu       sync.Mutex
	created  []client.Object
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (r *reviews) Create(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for p := r.peak.Load(); n > p && !r.peak.CompareAndSwap(p, n); p = r.peak.Load() {
	}
	r.mu.Lock()
	r.created = append(r.created, obj)
	r.mu.Unlock()
	return r.answer(obj)
}

func (r *reviews) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.created)
}

func (r *reviews) sars() []*authzv1.SubjectAccessReview {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*authzv1.SubjectAccessReview
	for _, o := range r.created {
		out = append(out, o.(*authzv1.SubjectAccessReview))
	}
	return out
}

// tokens answers TokenReviews: a token of valid is that user, any other is
// not valid.
func tokens(valid map[string]authnv1.UserInfo) *reviews {
	return &reviews{answer: func(obj client.Object) error {
		tr := obj.(*authnv1.TokenReview)
		u, ok := valid[tr.Spec.Token]
		tr.Status = authnv1.TokenReviewStatus{Authenticated: ok, User: u}
		return nil
	}}
}

func withToken(header string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", header)
	return r
}

// TestTokenReviewerAuthenticates: a token Kubernetes accepts is its user,
// with UID, groups and extras; one it refuses is unauthenticated, with the
// invalid_token challenge; both are asked with the configured audiences.
func TestTokenReviewerAuthenticates(t *testing.T) {
	ana := authnv1.UserInfo{Username: "ana@corp.example", UID: "u-1", Groups: []string{"cx-leads", "system:authenticated"},
		Extra: map[string]authnv1.ExtraValue{"scopes": {"read"}}}
	c := tokens(map[string]authnv1.UserInfo{"good-token": ana})
	tr := &TokenReviewer{Client: c, Audiences: []string{"cxloop"}}
	id, err := tr.Authenticate(withToken("Bearer good-token"))
	if err != nil {
		t.Fatal(err)
	}
	if id.User != ana.Username || id.UID != "u-1" || !slices.Equal(id.Groups, ana.Groups) || !slices.Equal(id.Extra["scopes"], []string{"read"}) || len(id.Extra) != 1 {
		t.Errorf("identity %+v", id)
	}
	_, err = tr.Authenticate(withToken("Bearer forged-token"))
	u, ok := IsUnauthenticated(err)
	if !ok || u.Challenge != BearerChallenge+`, error="invalid_token"` {
		t.Fatalf("a token Kubernetes refuses: %v", err)
	}
	if strings.Contains(err.Error(), "forged-token") || !strings.HasPrefix(err.Error(), "unauthenticated: ") {
		t.Errorf("error text %q", err.Error())
	}
	for _, o := range c.created {
		if spec := o.(*authnv1.TokenReview).Spec; !slices.Equal(spec.Audiences, []string{"cxloop"}) {
			t.Errorf("TokenReview for audiences %v, want [cxloop]", spec.Audiences)
		}
	}
	// Without extras the identity has none, not an empty map.
	c2 := tokens(map[string]authnv1.UserInfo{"t": {Username: "bob"}})
	if id, err := (&TokenReviewer{Client: c2}).Authenticate(withToken("Bearer t")); err != nil || id.Extra != nil || id.User != "bob" {
		t.Errorf("identity without extras: %+v, %v", id, err)
	}
}

// TestTokenReviewerCaches: a token's answer, yes or no, is asked once per
// TTL; the cache holds CacheSize tokens, keyed by their digest, never
// the token itself.
func TestTokenReviewerCaches(t *testing.T) {
	c := tokens(map[string]authnv1.UserInfo{"a": {Username: "ana"}, "b": {Username: "bob"}})
	tr := &TokenReviewer{Client: c, TTL: time.Hour, CacheSize: 2}
	for _, tc := range []struct {
		token     string
		wantCalls int
	}{
		{"a", 1}, {"a", 1}, {"forged", 2}, {"forged", 2}, // refusals are cached too
		{"b", 3}, // a, the oldest, is dropped: the cache holds 2
		{"forged", 3}, {"a", 4},
	} {
		_, _ = tr.Authenticate(withToken("Bearer " + tc.token))
		if c.calls() != tc.wantCalls {
			t.Fatalf("after %q: %d TokenReviews, want %d", tc.token, c.calls(), tc.wantCalls)
		}
	}
	for _, k := range tr.cache.Keys() {
		if s := fmt.Sprint(k); len(s) != 64 || strings.Contains(s, "forged") {
			t.Errorf("cache key %q is not a SHA-256 digest", s)
		}
	}

	short := &TokenReviewer{Client: c, TTL: 300 * time.Millisecond}
	before := c.calls()
	_, _ = short.Authenticate(withToken("Bearer a"))
	_, _ = short.Authenticate(withToken("Bearer a"))
	time.Sleep(400 * time.Millisecond)
	_, _ = short.Authenticate(withToken("Bearer a"))
	if got := c.calls() - before; got != 2 {
		t.Errorf("%d TokenReviews across an expired TTL, want 2", got)
	}
}

// TestTokenReviewerAPIErrors: when the API server fails, the answer is
// not known: an error that is not "unauthenticated", naming no token, and
// not cached.
func TestTokenReviewerAPIErrors(t *testing.T) {
	fail := true
	c := &reviews{answer: func(obj client.Object) error {
		if fail {
			return errors.New("etcdserver: request timed out")
		}
		obj.(*authnv1.TokenReview).Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "ana"}}
		return nil
	}}
	tr := &TokenReviewer{Client: c}
	_, err := tr.Authenticate(withToken("Bearer s3cret-token"))
	if _, unauth := IsUnauthenticated(err); err == nil || unauth || strings.Contains(err.Error(), "s3cret-token") || !strings.Contains(err.Error(), "TokenReview") {
		t.Fatalf("API failure: %v", err)
	}
	fail = false
	if id, err := tr.Authenticate(withToken("Bearer s3cret-token")); err != nil || id.User != "ana" || c.calls() != 2 {
		t.Errorf("after the API server recovered: %+v, %v after %d TokenReviews", id, err, c.calls())
	}
}

// sar answers SubjectAccessReviews: allowed where allow says for the
// review's namespace ("" is cluster-wide).
func sar(allow func(ns string) (allowed, denied bool, err error)) *reviews {
	return &reviews{answer: func(obj client.Object) error {
		s := obj.(*authzv1.SubjectAccessReview)
		a, d, err := allow(s.Spec.ResourceAttributes.Namespace)
		s.Status = authzv1.SubjectAccessReviewStatus{Allowed: a, Denied: d}
		return err
	}}
}

func allowed(s Scope, namespaces ...string) []string {
	var out []string
	for _, ns := range namespaces {
		if s.Allows(ns) {
			out = append(out, ns)
		}
	}
	return out
}

var ana = Identity{User: "ana", UID: "u-1", Groups: []string{"cx-leads"}, Extra: map[string][]string{"scopes": {"read"}}}

// TestAccessReviewerAsksClusterWideFirst: one allowed to list journeys
// cluster-wide sees every namespace after a single review.
func TestAccessReviewerAsksClusterWideFirst(t *testing.T) {
	c := sar(func(ns string) (bool, bool, error) { return ns == "", false, nil })
	scope, err := (&AccessReviewer{Client: c}).Authorize(context.Background(), ana, []string{"team-a", "team-b"})
	if err != nil || !scope.All() || !scope.Allows("any-namespace") {
		t.Fatalf("scope %+v, %v; want every namespace", scope, err)
	}
	if c.calls() != 1 {
		t.Errorf("%d reviews, want 1 (cluster-wide)", c.calls())
	}
	s := c.sars()[0].Spec
	ra := s.ResourceAttributes
	if s.User != "ana" || s.UID != "u-1" || !slices.Equal(s.Groups, ana.Groups) || !slices.Equal(s.Extra["scopes"], authzv1.ExtraValue{"read"}) ||
		ra.Verb != "list" || ra.Group != "cx.cxloop.dev" || ra.Resource != "customerjourneys" || ra.Namespace != "" {
		t.Errorf("review %+v, resource %+v", s, ra)
	}
}

// TestAccessReviewerScopesByNamespace: otherwise each namespace is
// reviewed; allowed and not denied is allowed; the empty name is skipped.
func TestAccessReviewerScopesByNamespace(t *testing.T) {
	c := sar(func(ns string) (bool, bool, error) {
		switch ns {
		case "team-a", "team-c":
			return true, false, nil
		case "team-d":
			return true, true, nil // a denying authorizer has the last word
		}
		return false, false, nil
	})
	namespaces := []string{"team-a", "team-b", "team-c", "team-d", ""}
	scope, err := (&AccessReviewer{Client: c}).Authorize(context.Background(), ana, namespaces)
	if err != nil || scope.All() {
		t.Fatalf("scope %+v, %v", scope, err)
	}
	if got := allowed(scope, append(namespaces, "team-e")...); !slices.Equal(got, []string{"team-a", "team-c"}) {
		t.Errorf("allowed %v, want [team-a team-c]", got)
	}
	var asked []string
	for _, s := range c.sars() {
		asked = append(asked, s.Spec.ResourceAttributes.Namespace)
	}
	slices.Sort(asked)
	if want := []string{"", "team-a", "team-b", "team-c", "team-d"}; !slices.Equal(asked, want) {
		t.Errorf("reviewed %q, want %q (cluster-wide once, the empty name never)", asked, want)
	}
}

// TestAccessReviewerCachesPerIdentity: answers are kept per identity and
// namespace; a new token of the same service account asks nothing again,
// another identity does; after the TTL they are asked again.
func TestAccessReviewerCachesPerIdentity(t *testing.T) {
	c := sar(func(ns string) (bool, bool, error) { return ns == "team-a", false, nil })
	a := &AccessReviewer{Client: c, TTL: time.Second}
	sa := func(credential string) Identity {
		return Identity{User: "system:serviceaccount:team-a:viewer", Extra: map[string][]string{"authentication.kubernetes.io/credential-id": {credential}}}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		id        Identity
		ns        []string
		wantCalls int
	}{
		{"first look", sa("JTI=1"), []string{"team-a", "team-b"}, 3},
		{"same token again", sa("JTI=1"), []string{"team-a", "team-b"}, 3},
		{"another token of the account", sa("JTI=2"), []string{"team-b", "team-a"}, 3},
		{"a namespace more", sa("JTI=2"), []string{"team-a", "team-c"}, 4},
		{"another identity", ana, []string{"team-a"}, 6},
	} {
		scope, err := a.Authorize(ctx, tc.id, tc.ns)
		if err != nil || !scope.Allows("team-a") || scope.Allows("team-b") {
			t.Fatalf("%s: scope %+v, %v", tc.name, scope, err)
		}
		if c.calls() != tc.wantCalls {
			t.Fatalf("%s: %d reviews in all, want %d", tc.name, c.calls(), tc.wantCalls)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := a.Authorize(ctx, ana, []string{"team-a"}); err != nil || c.calls() != 8 {
		t.Errorf("after the TTL: %d reviews in all, %v; want 8", c.calls(), err)
	}
}

// TestAccessReviewerErrors: a failed review fails the whole answer (no
// partial scope), and is not cached.
func TestAccessReviewerErrors(t *testing.T) {
	var failing atomic.Value
	failing.Store("team-b")
	c := sar(func(ns string) (bool, bool, error) {
		if ns == failing.Load() {
			return false, false, errors.New("the API server is unavailable")
		}
		return ns != "", false, nil
	})
	a := &AccessReviewer{Client: c}
	scope, err := a.Authorize(context.Background(), ana, []string{"team-a", "team-b", "team-c"})
	if err == nil || !strings.Contains(err.Error(), "SubjectAccessReview") || scope.Allows("team-a") || scope.All() {
		t.Fatalf("with a failing review: %+v, %v; want an error and an empty scope", scope, err)
	}
	failing.Store("") // for an identity not asked about yet
	if _, err := a.Authorize(context.Background(), Identity{User: "bob"}, nil); err == nil {
		t.Fatal("a failing cluster-wide review answered")
	}
	failing.Store("none")
	scope, err = a.Authorize(context.Background(), ana, []string{"team-a", "team-b"})
	if err != nil || !scope.Allows("team-b") {
		t.Errorf("after recovery: %+v, %v; want team-b allowed (the failure was not cached)", scope, err)
	}
}

// TestAccessReviewerBoundsReviewsInFlight: no more than Parallel reviews
// are in flight for one request.
func TestAccessReviewerBoundsReviewsInFlight(t *testing.T) {
	c := sar(func(ns string) (bool, bool, error) {
		time.Sleep(5 * time.Millisecond)
		return false, false, nil
	})
	var namespaces []string
	for i := range 20 {
		namespaces = append(namespaces, fmt.Sprintf("team-%d", i))
	}
	scope, err := (&AccessReviewer{Client: c, Parallel: 3}).Authorize(context.Background(), ana, namespaces)
	if err != nil || len(allowed(scope, namespaces...)) != 0 {
		t.Fatalf("scope %+v, %v", scope, err)
	}
	if c.calls() != 21 || c.peak.Load() > 3 {
		t.Errorf("%d reviews, at most %d at once; want 21, at most 3", c.calls(), c.peak.Load())
	}
}

// TestGates: the demo's Open gate lets an anonymous reader see
// everything; Kubernetes joins an authenticator and a reviewer.
func TestGates(t *testing.T) {
	var g Gate = Open{}
	id, err := g.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil || id.User != "system:anonymous" || !slices.Equal(id.Groups, []string{"system:unauthenticated"}) {
		t.Errorf("Open: %+v, %v", id, err)
	}
	if s, err := g.Authorize(context.Background(), id, nil); err != nil || !s.All() {
		t.Errorf("Open scope %+v, %v", s, err)
	}

	c := sar(func(ns string) (bool, bool, error) { return ns == "team-a", false, nil })
	g = Kubernetes{
		Authenticator:  &ProxyHeaders{UserHeader: "X-User", GroupsHeader: "X-Groups", Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		AccessReviewer: &AccessReviewer{Client: c},
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.1.2.3:4000"
	r.Header.Set("X-User", "ana")
	r.Header.Set("X-Groups", "cx-leads")
	id, err = g.Authenticate(r)
	if err != nil || id.User != "ana" {
		t.Fatalf("Kubernetes gate: %+v, %v", id, err)
	}
	s, err := g.Authorize(context.Background(), id, []string{"team-a", "team-b"})
	if err != nil || !slices.Equal(allowed(s, "team-a", "team-b"), []string{"team-a"}) {
		t.Errorf("Kubernetes gate scope %+v, %v", s, err)
	}
	if got := c.sars()[0].Spec; got.User != "ana" || !slices.Equal(got.Groups, []string{"cx-leads"}) {
		t.Errorf("reviewed %+v, want the proxy's user and groups", got)
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scope   Scope
		all     bool
		allowed []string
	}{
		{"nothing", Scope{}, false, nil},
		{"no namespaces", Namespaces(), false, nil},
		{"some", Namespaces("team-a", "team-b", "team-a"), false, []string{"team-a", "team-b"}},
		{"all", AllNamespaces(), true, []string{"team-a", "team-b", "team-c", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.scope.All() != tc.all {
				t.Errorf("All() = %v", tc.scope.All())
			}
			if got := allowed(tc.scope, "team-a", "team-b", "team-c", ""); !slices.Equal(got, tc.allowed) {
				t.Errorf("allows %q, want %q", got, tc.allowed)
			}
		})
	}
}

// TestIsUnauthenticated finds the error through wrapping, and only it.
func TestIsUnauthenticated(t *testing.T) {
	inner := &UnauthenticatedError{Challenge: BearerChallenge, Reason: "no bearer token"}
	if u, ok := IsUnauthenticated(fmt.Errorf("status page: %w", inner)); !ok || u != inner {
		t.Errorf("wrapped: %v, %v", u, ok)
	}
	for _, err := range []error{nil, errors.New("unauthenticated: no bearer token"), fmt.Errorf("TokenReview: %w", context.DeadlineExceeded)} {
		if _, ok := IsUnauthenticated(err); ok {
			t.Errorf("%v taken as unauthenticated", err)
		}
	}
	if got := inner.Error(); got != "unauthenticated: no bearer token" {
		t.Errorf("Error() = %q", got)
	}
}

// TestProxyHeadersEdges: custom header names, groups spread over several
// headers with empty entries, and system names hidden behind spaces.
func TestProxyHeadersEdges(t *testing.T) {
	p := &ProxyHeaders{UserHeader: "Remote-User", GroupsHeader: "Remote-Groups", Trusted: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")}}
	for _, tc := range []struct {
		name, remote string
		user         string
		groups       []string
		wantUser     string
		wantGroups   []string
	}{
		{"user trimmed, empty groups dropped", "192.168.0.9:1", "  ana  ", []string{",, cx-leads ,", "", "ops"}, "ana", []string{"cx-leads", "ops"}},
		{"a system group behind spaces", "192.168.0.9:1", "ana", []string{"ops,  system:masters "}, "", nil},
		{"a system user behind spaces", "192.168.0.9:1", " system:kube-controller-manager", nil, "", nil},
		{"the default header names are not read", "192.168.0.9:1", "", nil, "", nil},
		{"a neighbouring network", "192.168.1.9:1", "ana", nil, "", nil},
		{"no remote address", "", "ana", nil, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.user != "" {
				r.Header.Set("Remote-User", tc.user)
			} else {
				r.Header.Set("X-Forwarded-User", "ana")
			}
			for _, g := range tc.groups {
				r.Header.Add("Remote-Groups", g)
			}
			id, err := p.Authenticate(r)
			if tc.wantUser == "" {
				if u, ok := IsUnauthenticated(err); !ok || u.Challenge != "" {
					t.Fatalf("%+v, %v; want unauthenticated without a challenge", id, err)
				}
				return
			}
			if err != nil || id.User != tc.wantUser || !slices.Equal(id.Groups, tc.wantGroups) {
				t.Errorf("%+v, %v; want %s %v", id, err, tc.wantUser, tc.wantGroups)
			}
		})
	}
	if _, err := (&ProxyHeaders{UserHeader: "Remote-User"}).Authenticate(httptest.NewRequest(http.MethodGet, "/", nil)); err == nil {
		t.Error("a proxy with no trusted address trusted a request")
	}
}
