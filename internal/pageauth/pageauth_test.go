package pageauth

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TokenReview and SubjectAccessReview are tested against envtest's
// kube-apiserver in package controllers (statuspage_test.go).

func TestParseMode(t *testing.T) {
	for _, ok := range []string{"token", "proxy", "none"} {
		if m, err := ParseMode(ok); err != nil || string(m) != ok {
			t.Errorf("ParseMode(%q) = %q, %v", ok, m, err)
		}
	}
	for _, bad := range []string{"", "Token", "oidc"} {
		if _, err := ParseMode(bad); err == nil || !strings.Contains(err.Error(), "--status-page-auth") {
			t.Errorf("ParseMode(%q): %v, want an error naming the flag", bad, err)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs(" 10.1.2.3/16, fd00::/8 ,")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00::/8")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", " , ", "10.0.0.1", "10.0.0.0/33", "proxy.example"} {
		if _, err := ParseCIDRs(bad); err == nil || !strings.Contains(err.Error(), "--status-page-proxy-trusted-cidrs") {
			t.Errorf("ParseCIDRs(%q): %v, want an error naming the flag", bad, err)
		}
	}
}

func TestProxyHeadersTrustOnlyTheProxy(t *testing.T) {
	p := &ProxyHeaders{UserHeader: "X-Forwarded-User", GroupsHeader: "X-Forwarded-Groups",
		Trusted: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00::/8")}}
	for _, c := range []struct {
		name, remote string
		users        []string
		groups       []string
		wantUser     string
		wantGroups   []string
	}{
		{"trusted", "10.20.3.4:5555", []string{"ana@corp.example"}, []string{"cx-leads, staff", "ops"}, "ana@corp.example", []string{"cx-leads", "staff", "ops"}},
		{"trusted, IPv4 in IPv6", "[::ffff:10.20.3.4]:5555", []string{"ana"}, nil, "ana", nil},
		{"trusted IPv6", "[fd00::1]:80", []string{"ana"}, nil, "ana", nil},
		{"untrusted", "10.21.0.1:5555", []string{"ana"}, []string{"cx-leads"}, "", nil},
		{"untrusted loopback", "127.0.0.1:5555", []string{"ana"}, nil, "", nil},
		{"no user", "10.20.3.4:5555", nil, []string{"cx-leads"}, "", nil},
		{"empty user", "10.20.3.4:5555", []string{"  "}, nil, "", nil},
		{"two users", "10.20.3.4:5555", []string{"ana", "root"}, nil, "", nil},
		{"no port", "10.20.3.4", []string{"ana"}, nil, "", nil},
		{"a system group", "10.20.3.4:5555", []string{"ana"}, []string{"staff,system:masters"}, "", nil},
		{"a system user", "10.20.3.4:5555", []string{"system:admin"}, nil, "", nil},
		{"a service account", "10.20.3.4:5555", []string{"system:serviceaccount:cxloop-system:cxloop-controller-manager"}, nil, "", nil},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, u := range c.users {
			r.Header.Add("X-Forwarded-User", u)
		}
		for _, g := range c.groups {
			r.Header.Add("X-Forwarded-Groups", g)
		}
		id, err := p.Authenticate(r)
		if c.wantUser == "" {
			if _, ok := IsUnauthenticated(err); !ok {
				t.Errorf("%s: %+v, %v; want unauthenticated", c.name, id, err)
			}
			continue
		}
		if err != nil || id.User != c.wantUser || !slices.Equal(id.Groups, c.wantGroups) {
			t.Errorf("%s: %+v, %v; want %s %v", c.name, id, err, c.wantUser, c.wantGroups)
		}
	}
}

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		header []string
		token  string
	}{
		{[]string{"Bearer abc.def"}, "abc.def"},
		{[]string{"bearer  abc "}, "abc"},
		{[]string{"Basic YWxhZGRpbjpvcGVu"}, ""},
		{[]string{"Bearer "}, ""},
		{[]string{"Bearer a", "Bearer b"}, ""},
		{nil, ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range c.header {
			r.Header.Add("Authorization", h)
		}
		tok, ok := bearer(r)
		if tok != c.token || ok != (c.token != "") {
			t.Errorf("bearer(%q) = %q, %v; want %q", c.header, tok, ok, c.token)
		}
	}
	// Without a token no API call is made: the reviewer has no client.
	_, err := (&TokenReviewer{}).Authenticate(httptest.NewRequest("GET", "/", nil))
	if u, ok := IsUnauthenticated(err); !ok || !strings.HasPrefix(u.Challenge, "Bearer") {
		t.Errorf("no token: %v", err)
	}
}

func TestIdentityKeyIgnoresOrderButNotContent(t *testing.T) {
	a := Identity{User: "ana", Groups: []string{"x", "y"}, Extra: map[string][]string{"k": {"1"}}}
	b := Identity{User: "ana", Groups: []string{"y", "x"}, Extra: map[string][]string{"k": {"1"}}}
	if a.key() != b.key() {
		t.Error("the order of groups changes the key")
	}
	for _, other := range []Identity{
		{User: "ana", Groups: []string{"x"}, Extra: a.Extra},
		{User: "ana2", Groups: a.Groups, Extra: a.Extra},
		{User: "ana", Groups: a.Groups},
		{User: "ana", UID: "1", Groups: a.Groups, Extra: a.Extra},
		{User: "ana", Groups: []string{"x\x00g:y"}, Extra: a.Extra},
	} {
		if other.key() == a.key() {
			t.Errorf("%+v has the key of %+v", other, a)
		}
	}
}

// TestIdentityKeyIsTheAuthorityNotTheCredential: two tokens of one service
// account (each `kubectl create token` has its own credential-id) are one
// identity for the cache; other extras still tell identities apart.
func TestIdentityKeyIsTheAuthorityNotTheCredential(t *testing.T) {
	sa := func(extra map[string][]string) Identity {
		return Identity{User: "system:serviceaccount:team-a:viewer", UID: "u1", Groups: []string{"system:serviceaccounts"}, Extra: extra}
	}
	a := sa(map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=1"}, "authentication.kubernetes.io/pod-name": {"p1"}})
	b := sa(map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=2"}})
	if a.key() != b.key() {
		t.Error("two tokens of one service account are two identities for the cache")
	}
	c := sa(map[string][]string{"scopes.example.com/team": {"a"}})
	if c.key() == a.key() {
		t.Error("an extra that is not the credential's was ignored")
	}
}
