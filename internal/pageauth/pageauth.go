// Package pageauth decides who may read the status page and its JSON API,
// and which namespaces they see: Kubernetes' own answer, not cxloop's. A
// person is authenticated by a bearer token (TokenReview) or by the identity
// headers of an authenticating proxy in front of the page (oauth2-proxy,
// trusted only from configured addresses), then sees the namespaces where
// Kubernetes lets them list CustomerJourneys (SubjectAccessReview). Both
// answers are cached briefly so that a page load costs the API server
// nothing in the common case.
package pageauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Mode names how the page authenticates its readers (--status-page-auth).
type Mode string

const (
	// ModeToken checks an "Authorization: Bearer" token with a TokenReview.
	ModeToken Mode = "token"
	// ModeProxy trusts the identity headers of an authenticating proxy,
	// from the configured addresses only.
	ModeProxy Mode = "proxy"
	// ModeNone shows every namespace to anyone who reaches the page: the demo.
	ModeNone Mode = "none"
)

// ParseMode reads a --status-page-auth value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeToken, ModeProxy, ModeNone:
		return m, nil
	}
	return "", fmt.Errorf("--status-page-auth: %q is not one of token, proxy, none", s)
}

// Identity is who a request comes from, as Kubernetes' authorisation sees it.
type Identity struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// key is a digest of the identity, to cache its authorisation by.
func (id Identity) key() string {
	h := sha256.New()
	// Each part length-prefixed: no name can pass for two.
	write := func(s string) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	write(id.User)
	write(id.UID)
	groups := slices.Clone(id.Groups)
	slices.Sort(groups)
	for _, g := range groups {
		write("g:" + g)
	}
	keys := make([]string, 0, len(id.Extra))
	for k := range id.Extra {
		// The API server's own extras name the credential (a service
		// account token's credential-id, its pod), not the authority: each
		// `kubectl create token` would otherwise be a new identity, asked
		// about every namespace again. They still go into the reviews.
		if strings.HasPrefix(k, "authentication.kubernetes.io/") {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		write("x:" + k)
		for _, v := range id.Extra[k] {
			write("v:" + v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// UnauthenticatedError says the request carries no identity the page
// accepts; the page answers 401 with Challenge as WWW-Authenticate, if any.
// Its text is safe to show: it never holds the credentials.
type UnauthenticatedError struct {
	Challenge string
	Reason    string
}

func (e *UnauthenticatedError) Error() string { return "unauthenticated: " + e.Reason }

// IsUnauthenticated tells whether err is an *UnauthenticatedError.
func IsUnauthenticated(err error) (*UnauthenticatedError, bool) {
	var u *UnauthenticatedError
	ok := errors.As(err, &u)
	return u, ok
}

// Scope is the set of namespaces an identity may see.
type Scope struct {
	all bool
	ns  map[string]bool
}

// AllNamespaces is the scope of one who may list journeys cluster-wide.
func AllNamespaces() Scope { return Scope{all: true} }

// Namespaces is a scope of the given namespaces only.
func Namespaces(ns ...string) Scope {
	s := Scope{ns: make(map[string]bool, len(ns))}
	for _, n := range ns {
		s.ns[n] = true
	}
	return s
}

// Allows tells whether the scope includes namespace ns.
func (s Scope) Allows(ns string) bool { return s.all || s.ns[ns] }

// All tells whether the scope is every namespace.
func (s Scope) All() bool { return s.all }

// Gate is what the status page asks about each request. Tests of the page
// swap it for a fake; the manager uses Kubernetes (or Open for the demo).
type Gate interface {
	// Authenticate returns who sent r, or an *UnauthenticatedError.
	// Other errors mean the answer is not known now (the API server failed).
	Authenticate(r *http.Request) (Identity, error)
	// Authorize returns which of namespaces id may see.
	Authorize(ctx context.Context, id Identity, namespaces []string) (Scope, error)
}

// Open lets anyone see everything: --status-page-auth=none.
type Open struct{}

func (Open) Authenticate(*http.Request) (Identity, error) {
	return Identity{User: "system:anonymous", Groups: []string{"system:unauthenticated"}}, nil
}

func (Open) Authorize(context.Context, Identity, []string) (Scope, error) {
	return AllNamespaces(), nil
}

// Authenticator finds who sent a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// Kubernetes is the Gate of the token and proxy modes: an Authenticator,
// then SubjectAccessReviews.
type Kubernetes struct {
	Authenticator
	*AccessReviewer
}

// BearerChallenge is the WWW-Authenticate of a request without a valid token.
const BearerChallenge = `Bearer realm="cxloop status page"`

// TokenReviewer authenticates "Authorization: Bearer" tokens with the API
// server's TokenReview, so any token Kubernetes accepts works: a
// ServiceAccount's (kubectl create token), or an OIDC one the API server is
// configured for. Answers are cached for TTL, keyed by the token's SHA-256,
// never the token.
type TokenReviewer struct {
	// Client creates TokenReviews (authentication.k8s.io/v1).
	Client client.Client
	// Audiences the token must be meant for; the API server's when empty.
	Audiences []string
	// TTL of a cached answer; 10s when zero. CacheSize bounds how many
	// tokens are remembered; 1024 when zero.
	TTL       time.Duration
	CacheSize int

	once  sync.Once
	cache *cache.LRUExpireCache
}

type tokenAnswer struct {
	id  Identity
	err error
}

func (t *TokenReviewer) init() {
	t.once.Do(func() {
		if t.TTL == 0 {
			t.TTL = 10 * time.Second
		}
		if t.CacheSize == 0 {
			t.CacheSize = 1024
		}
		t.cache = cache.NewLRUExpireCache(t.CacheSize)
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func (t *TokenReviewer) Authenticate(r *http.Request) (Identity, error) {
	t.init()
	token, ok := bearer(r)
	if !ok {
		return Identity{}, &UnauthenticatedError{Challenge: BearerChallenge, Reason: "no bearer token"}
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if v, ok := t.cache.Get(key); ok {
		a := v.(tokenAnswer)
		return a.id, a.err
	}
	tr := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token, Audiences: t.Audiences}}
	if err := t.Client.Create(r.Context(), tr); err != nil {
		// Not cached: the next request asks again. The error names no token.
		return Identity{}, fmt.Errorf("TokenReview: %w", err)
	}
	var a tokenAnswer
	if !tr.Status.Authenticated {
		a.err = &UnauthenticatedError{Challenge: BearerChallenge + `, error="invalid_token"`, Reason: "the token is not valid"}
	} else {
		u := tr.Status.User
		a.id = Identity{User: u.Username, UID: u.UID, Groups: u.Groups}
		if len(u.Extra) > 0 {
			a.id.Extra = make(map[string][]string, len(u.Extra))
			for k, v := range u.Extra {
				a.id.Extra[k] = v
			}
		}
	}
	t.cache.Add(key, a, t.TTL)
	return a.id, a.err
}

// ProxyHeaders takes the identity from the headers an authenticating proxy
// (oauth2-proxy and the like) sets, and only from requests whose peer
// address is a trusted one: anyone else could set the headers too.
type ProxyHeaders struct {
	// UserHeader holds the user name (X-Forwarded-User); GroupsHeader its
	// groups, comma-separated (X-Forwarded-Groups).
	UserHeader, GroupsHeader string
	// Trusted are the proxy's addresses; required.
	Trusted []netip.Prefix
}

// ParseCIDRs reads --status-page-proxy-trusted-cidrs: comma-separated
// CIDRs, at least one.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("--status-page-proxy-trusted-cidrs: %q is not a CIDR such as 10.0.0.0/8: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, errors.New("--status-page-proxy-trusted-cidrs: proxy mode needs the proxy's addresses (comma-separated CIDRs)")
	}
	return out, nil
}

func (p *ProxyHeaders) trusted(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, pre := range p.Trusted {
		if pre.Contains(addr) {
			return true
		}
	}
	return false
}

func (p *ProxyHeaders) Authenticate(r *http.Request) (Identity, error) {
	if !p.trusted(r.RemoteAddr) {
		return Identity{}, &UnauthenticatedError{Reason: "not from the authenticating proxy"}
	}
	users := r.Header.Values(p.UserHeader)
	if len(users) != 1 || strings.TrimSpace(users[0]) == "" {
		return Identity{}, &UnauthenticatedError{Reason: "no user from the authenticating proxy"}
	}
	id := Identity{User: strings.TrimSpace(users[0])}
	// Kubernetes' own names (system:masters, system:serviceaccount:…,
	// system:nodes) are given by the API server's authenticators, never by
	// a proxy's header: whatever reaches the proxy, or sits in its
	// addresses, could send them.
	if strings.HasPrefix(id.User, "system:") {
		return Identity{}, &UnauthenticatedError{Reason: "a proxy may not name a Kubernetes system user"}
	}
	for _, v := range r.Header.Values(p.GroupsHeader) {
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				if strings.HasPrefix(g, "system:") {
					return Identity{}, &UnauthenticatedError{Reason: "a proxy may not name a Kubernetes system group"}
				}
				id.Groups = append(id.Groups, g)
			}
		}
	}
	return id, nil
}

// AccessReviewer answers which namespaces an identity may list
// CustomerJourneys in, with SubjectAccessReviews: first one at cluster scope
// (allowed there means every namespace), then one per namespace. Answers
// are cached for TTL per identity and namespace, at most CacheSize of them.
type AccessReviewer struct {
	// Client creates SubjectAccessReviews (authorization.k8s.io/v1).
	Client client.Client
	// TTL of a cached answer; 30s when zero. CacheSize: 8192 when zero.
	TTL       time.Duration
	CacheSize int
	// Parallel bounds the reviews in flight for one request; 8 when zero.
	Parallel int

	once  sync.Once
	cache *cache.LRUExpireCache
}

// What the identity must be allowed: list customerjourneys.cx.cxloop.dev.
const (
	Group    = "cx.cxloop.dev"
	Resource = "customerjourneys"
	Verb     = "list"
)

func (a *AccessReviewer) init() {
	a.once.Do(func() {
		if a.TTL == 0 {
			a.TTL = 30 * time.Second
		}
		if a.CacheSize == 0 {
			a.CacheSize = 8192
		}
		if a.Parallel == 0 {
			a.Parallel = 8
		}
		a.cache = cache.NewLRUExpireCache(a.CacheSize)
	})
}

func (a *AccessReviewer) Authorize(ctx context.Context, id Identity, namespaces []string) (Scope, error) {
	a.init()
	who := id.key()
	all, err := a.allowed(ctx, id, who, "")
	if err != nil {
		return Scope{}, err
	}
	if all {
		return AllNamespaces(), nil
	}
	var mu sync.Mutex
	scope := Namespaces()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.Parallel)
	for _, ns := range namespaces {
		if ns == "" {
			continue
		}
		g.Go(func() error {
			ok, err := a.allowed(gctx, id, who, ns)
			if ok {
				mu.Lock()
				scope.ns[ns] = true
				mu.Unlock()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Scope{}, err
	}
	return scope, nil
}

func (a *AccessReviewer) allowed(ctx context.Context, id Identity, who, ns string) (bool, error) {
	key := who + "/" + ns
	if v, ok := a.cache.Get(key); ok {
		return v.(bool), nil
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: id.User, UID: id.UID, Groups: id.Groups,
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: ns, Verb: Verb, Group: Group, Resource: Resource},
	}}
	if len(id.Extra) > 0 {
		sar.Spec.Extra = make(map[string]authzv1.ExtraValue, len(id.Extra))
		for k, v := range id.Extra {
			sar.Spec.Extra[k] = v
		}
	}
	if err := a.Client.Create(ctx, sar); err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	ok := sar.Status.Allowed && !sar.Status.Denied
	a.cache.Add(key, ok, a.TTL)
	return ok, nil
}
