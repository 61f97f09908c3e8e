// Package localgithub is a local, GitHub-compatible REST server for the
// issue-tracking subset of the API that cxloop uses through go-github.
//
// Tests and the demo point go-github (BaseURL and UploadURL) at Server.URL
// instead of api.github.com. The server answers like GitHub does, as checked
// against recorded GitHub traffic in testdata/github: the same JSON shapes,
// status codes, ETag and conditional requests, Link pagination, primary
// rate limits with X-RateLimit-* headers, 422 validation errors, GitHub App
// installation tokens and signed `issues` webhooks. It also serves the
// product owner's board as GitHub's OpenAPI description has it
// (testdata/github/openapi): Projects (v2) of organisations and users with
// their fields, items and field values, sub-issues with their parent's
// progress, issue dependencies and organisation issue types. Faults such as dropped
// responses, server errors, latency and secondary rate limits can be
// injected to exercise a client's error handling.
//
// A Server is safe for concurrent use.
package localgithub

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is returned by the Server's direct methods when the repository
// or issue does not exist.
var ErrNotFound = errors.New("localgithub: not found")

// Options configure a Server. The zero value is usable.
type Options struct {
	// RateLimit is the primary rate-limit budget per window and token.
	// Zero means GitHub's 5000.
	RateLimit int
	// RateWindow is the length of a rate-limit window. Zero means one hour.
	RateWindow time.Duration
	// DataFile, when set, is loaded by New and rewritten atomically after
	// every change, so that a demo survives a restart. Tokens added with
	// AddToken are not stored; installation tokens are stored as hashes.
	DataFile string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// BaseURL is the URL the server is reached at, used in the URLs it
	// hands out (html_url, url, Link, Location, webhooks). Empty means the
	// address Start listens on, or else the Host of each request.
	BaseURL string
	// Logger receives operational messages such as failed saves. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Request is one entry of the request log. It never holds credentials.
type Request struct {
	Method string
	// Path is the URL path with the query (an access_token parameter is
	// redacted).
	Path string
	// Status is the status code answered, or 0 when the connection was
	// dropped without an answer (DropResponseAfterCommit).
	Status int
	// Conditional reports whether the request carried If-None-Match.
	Conditional bool
	// Fault is the kind of the injected fault applied to the request, or 0.
	Fault FaultKind
	Time  time.Time
}

// maxRequestLog bounds the request log of a long-running demo.
const maxRequestLog = 10000

// Server is a local GitHub. Create it with New.
type Server struct {
	opts  Options
	now   func() time.Time
	log   *slog.Logger
	mux   *http.ServeMux
	hooks *webhooks

	mu       sync.Mutex
	world    *world
	tokens   map[string]bool // SHA-256 of accepted personal access tokens
	readOnly map[string]bool // SHA-256 of tokens that may only read
	// projectsDenied holds the caller keys that projects answer 403.
	projectsDenied map[string]bool
	apps           map[int64]*app
	faults         []*activeFault
	// requests is the request log, guarded by logMu (not mu: a request is
	// logged as its status is written, which handlers do holding mu).
	logMu    sync.Mutex
	requests []Request
	// waitUntil is, by caller, when the caller was told it may send again;
	// whileLimited counts the requests that came sooner.
	waitUntil    map[string]time.Time
	whileLimited int
	base         string // base URL once known, with trailing slash

	// rateMu guards budgets. It may be taken while mu is held, never the
	// other way round, since answers (with rate headers) are written while
	// handlers hold mu.
	rateMu  sync.Mutex
	budgets map[string]*budget // by caller key

	httpServer *http.Server
	closeOnce  sync.Once
}

// app is a registered GitHub App.
type app struct {
	key           *rsa.PublicKey
	installations map[int64]bool
}

// New returns a Server. With Options.DataFile set it loads the saved state.
func New(opts Options) (*Server, error) {
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Hour
	}
	s := &Server{
		opts:     opts,
		now:      opts.Now,
		log:      opts.Logger,
		tokens:   map[string]bool{},
		readOnly: map[string]bool{},
		apps:     map[int64]*app{},
		budgets:  map[string]*budget{},
		world:    newWorld(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.BaseURL != "" {
		s.base = strings.TrimSuffix(opts.BaseURL, "/") + "/"
	}
	if opts.DataFile != "" {
		w, err := loadWorld(opts.DataFile)
		if err != nil {
			return nil, err
		}
		s.world = w
	}
	s.hooks = newWebhooks()
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving the API, for use with
// httptest.NewServer or an http.Server of the caller's own.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("localgithub: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.opts.BaseURL == "" {
		s.base = "http://" + ln.Addr().String() + "/"
	}
	s.httpServer = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("localgithub: serving stopped", "err", err)
		}
	}()
	return nil
}

// URL returns the base URL with a trailing slash, usable as go-github's
// BaseURL and UploadURL. It is empty before Start unless Options.BaseURL
// was set.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// Close stops serving and stops delivering webhooks. Deliveries still
// queued are abandoned.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.hooks.close()
		s.mu.Lock()
		srv := s.httpServer
		s.mu.Unlock()
		if srv != nil {
			err = srv.Close()
		}
	})
	return err
}

// AddRepo creates the repository owner/name, with GitHub's default labels,
// and returns its id. Adding an existing repository returns its id.
func (s *Server) AddRepo(owner, name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.world.repo(owner, name); r != nil {
		return r.ID
	}
	r := s.world.addRepo(owner, name, s.now())
	s.saveLocked()
	return r.ID
}

// RenameRepo renames or transfers the repository owner/name to
// newOwner/newName, as a person does in its settings. Its ID stays; its old
// name is redirected to the ID (301 for reads, 307 for writes), and
// webhooks name it by its new name.
func (s *Server) RenameRepo(owner, name, newOwner, newName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.world.repo(owner, name)
	if r == nil {
		return ErrNotFound
	}
	if other := s.world.repo(newOwner, newName); other != nil && other != r {
		return fmt.Errorf("localgithub: %s/%s exists", newOwner, newName)
	}
	oldOwner, oldName := r.Owner, r.Name
	r.FormerNames = append(r.FormerNames, r.Owner+"/"+r.Name)
	r.Owner, r.Name = newOwner, newName
	s.emitRepositoryLocked(s.linksLocked(nil), r, oldOwner, oldName)
	s.saveLocked()
	return nil
}

// redirectRenamed answers a request naming a repository by a former name
// as GitHub does: 301 (reads) or 307 (writes, which the client repeats with
// its body) to the same path under /repositories/{id}. It reports whether
// it answered.
func (s *Server) redirectRenamed(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/repos/")
	if !ok {
		return false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.world.repo(parts[0], parts[1]) != nil {
		return false
	}
	repo := s.world.formerRepo(parts[0], parts[1])
	if repo == nil {
		return false
	}
	loc := s.linksLocked(r).api("repositories/%d", repo.ID)
	if len(parts) == 3 {
		loc += "/" + parts[2]
	}
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	status, msg := http.StatusMovedPermanently, "Moved Permanently"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		status, msg = http.StatusTemporaryRedirect, "Temporary Redirect"
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "url": loc, "documentation_url": "https://docs.github.com/v3/#http-redirects"})
	return true
}

// SetIssuesDisabled turns the repository's issue tracker off or on. With
// issues disabled, the issue endpoints answer 410 Gone. Unknown
// repositories are ignored.
func (s *Server) SetIssuesDisabled(owner, name string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.world.repo(owner, name); r != nil {
		r.IssuesDisabled = disabled
		s.saveLocked()
	}
}

// AddToken makes token an accepted personal access token, acting as the
// user "octocat" (id 1).
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tokenKey(token)] = true
}

// SetTokenReadOnly makes a token added with AddToken read-only (or
// writable again), as a fine-grained token whose Issues permission was
// lowered to read: every write it sends is answered 403 "Resource not
// accessible by personal access token", as GitHub does.
func (s *Server) SetTokenReadOnly(token string, readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if readOnly {
		s.readOnly[tokenKey(token)] = true
	} else {
		delete(s.readOnly, tokenKey(token))
	}
}

// AddApp registers installation installationID of the GitHub App appID whose
// private key matches key. The app then obtains installation tokens from
// POST /app/installations/{installationID}/access_tokens with an RS256 JWT.
func (s *Server) AddApp(appID, installationID int64, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil {
		a = &app{installations: map[int64]bool{}}
		s.apps[appID] = a
	}
	a.key = key
	a.installations[installationID] = true
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RateLimitRemaining returns what is left of token's primary budget in the
// current window.
func (s *Server) RateLimitRemaining(token string) int {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	return s.budgetLocked(tokenKey(token)).remaining(s.opts.RateLimit)
}

// tokenKey is how a token is known inside the server: its SHA-256, so that
// neither the server's state nor the data file holds tokens.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "token:" + hex.EncodeToString(sum[:])
}

// saveLocked writes the data file if one is configured.
func (s *Server) saveLocked() {
	if s.opts.DataFile == "" {
		return
	}
	if err := saveWorld(s.opts.DataFile, s.world); err != nil {
		s.log.Error("localgithub: saving state", "err", err)
	}
}

// linksLocked returns the URL builder for a request (r may be nil).
func (s *Server) linksLocked(r *http.Request) links {
	if s.base != "" {
		return links{base: s.base, w: s.world}
	}
	if r != nil && r.Host != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return links{base: scheme + "://" + r.Host + "/", w: s.world}
	}
	return links{base: "http://localhost/", w: s.world}
}

// caller is who a request acts as.
type caller struct {
	key  string // budget key; never the token itself
	user user
	app  int64 // app id for JWT-authenticated requests
}

type callerKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// serveHTTP runs every request through logging, authentication, fault
// injection and the primary rate limit before routing it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w, s: s}
	entry := Request{
		Method:      r.Method,
		Path:        redactedPath(r),
		Conditional: r.Header.Get("If-None-Match") != "",
		Time:        s.now(),
	}
	// The request is logged when its status is written, before the client
	// can read the answer: a test that counts requests right after one
	// returned must find it. One that wrote nothing is logged at the end.
	rw.logged = func(status int) {
		entry.Status = status
		s.logRequest(entry)
	}
	defer func() {
		if !rw.dropped && rw.logged != nil {
			rw.logged(rw.status)
		}
	}()
	w.Header().Set("X-GitHub-Request-Id", newRequestID())
	// The web view (html.go): a person's browsing is not API traffic, and
	// is not logged.
	logged := rw.logged
	rw.logged = nil
	if s.servePage(rw, r) {
		return
	}
	rw.logged = logged
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")

	c, err := s.authenticate(r)
	if err != nil {
		// Like GitHub, failed and missing credentials count against the
		// client address's unauthenticated budget.
		rw.budgetKey = anonymousKey(r)
		if !s.reserve(rw.budgetKey) {
			writeRateLimited(rw)
			return
		}
		ae := errBadCredentials
		errors.As(err, &ae)
		writeError(rw, ae)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	rw.budgetKey = c.key
	countable := r.URL.Path != "/rate_limit"
	if countable {
		s.checkWait(c.key, entry.Time)
	}

	if s.isReadOnly(c.key) && r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(rw, &apiError{status: http.StatusForbidden, Message: "Resource not accessible by personal access token", DocumentationURL: docsREST})
		return
	}

	f := s.takeFault(r)
	if f != nil {
		entry.Fault = f.Kind
		switch f.Kind {
		case PrimaryLimit:
			s.exhaust(c.key)
			s.noteWait(c.key, s.resetOf(c.key))
			writeRateLimited(rw)
			return
		case SecondaryLimit:
			s.noteWait(c.key, s.now().Add(retryAfterOf(f)))
			writeSecondaryLimited(rw, f)
			return
		case ServerError:
			status := f.Status
			if status == 0 {
				status = http.StatusBadGateway
			}
			writeError(rw, &apiError{status: status, Message: "Server Error"})
			return
		case Latency:
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}

	if countable {
		if !s.reserve(c.key) {
			s.noteWait(c.key, s.resetOf(c.key))
			writeRateLimited(rw)
			return
		}
		rw.reserved = true
	}

	if s.redirectRenamed(rw, r) {
		return
	}
	if f != nil && f.Kind == DropResponseAfterCommit {
		s.serveAndDrop(rw, r, entry)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// logRequest appends to the request log, keeping the newest entries.
func (s *Server) logRequest(entry Request) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.requests = append(s.requests, entry)
	if len(s.requests) > maxRequestLog {
		s.requests = append([]Request(nil), s.requests[len(s.requests)-maxRequestLog:]...)
	}
}

// serveAndDrop lets the handler commit the change, throws its answer away
// and closes the connection, as when a response is lost on the way back.
func (s *Server) serveAndDrop(rw *responseWriter, r *http.Request, entry Request) {
	discard := &discardWriter{header: http.Header{}}
	s.mux.ServeHTTP(discard, r)
	rw.dropped, rw.logged = true, nil
	entry.Status = 0
	s.logRequest(entry) // before the client can notice the drop
	conn, _, err := http.NewResponseController(rw.ResponseWriter).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2 or a recorder): abort the response instead.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// discardWriter is a ResponseWriter that forgets what is written.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// responseWriter adds the rate-limit headers when the status is written and
// refunds the budget for 304 Not Modified, which GitHub does not count.
type responseWriter struct {
	http.ResponseWriter
	s         *Server
	budgetKey string
	reserved  bool
	status    int
	dropped   bool
	// logged logs the request with its status, once (nil once done).
	logged func(status int)
}

func (w *responseWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	if w.budgetKey != "" {
		if status == http.StatusNotModified && w.reserved {
			w.s.refund(w.budgetKey)
		}
		w.s.setRateHeaders(w.Header(), w.budgetKey)
	}
	if log := w.logged; log != nil {
		w.logged = nil
		log(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func redactedPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if r.URL.RawQuery == "" {
		return p
	}
	q := r.URL.Query()
	if q.Has("access_token") {
		q.Set("access_token", "REDACTED")
		return p + "?" + q.Encode()
	}
	return p + "?" + r.URL.RawQuery
}

// newRequestID returns an id shaped like GitHub's X-GitHub-Request-Id,
// for example 0680:6A2A:111D4F8:26659C5:62D63550.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%04X:%04X:%07X:%07X:%08X",
		uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]),
		(uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]))&0xFFFFFFF,
		(uint32(b[8])<<24|uint32(b[9])<<16|uint32(b[10])<<8|uint32(b[11]))&0xFFFFFFF,
		uint32(b[12])<<24|uint32(b[13])<<16|uint32(b[14])<<8|uint32(b[15]))
}

// apiError is an error answer in GitHub's shape.
type apiError struct {
	status           int
	Message          string `json:"message"`
	Errors           any    `json:"errors,omitempty"` // []validationError, or []string for a "Validation Error Simple"
	DocumentationURL string `json:"documentation_url,omitempty"`
	location         string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.Message) }

// validationError is one entry of a 422 answer's errors.
type validationError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

const docsREST = "https://docs.github.com/rest"

var (
	errBadCredentials = &apiError{status: http.StatusUnauthorized, Message: "Bad credentials", DocumentationURL: docsREST}
	errRequiresAuth   = &apiError{status: http.StatusUnauthorized, Message: "Requires authentication", DocumentationURL: docsREST}
	errNotFound       = &apiError{status: http.StatusNotFound, Message: "Not Found", DocumentationURL: docsREST}
	errIssuesDisabled = &apiError{status: http.StatusGone, Message: "Issues are disabled for this repo", DocumentationURL: "https://docs.github.com/v3/issues/"}
	errIssueDeleted   = &apiError{status: http.StatusGone, Message: "This issue was deleted", DocumentationURL: "https://docs.github.com/rest/issues/issues#get-an-issue"}
	errProblemsJSON   = &apiError{status: http.StatusBadRequest, Message: "Problems parsing JSON", DocumentationURL: docsREST}
)

func validationFailed(doc string, errs ...validationError) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, Message: "Validation Failed", Errors: errs, DocumentationURL: doc}
}

// refused is a 422 with one error of code custom: what GitHub answers
// when a request is well formed but breaks one of its rules.
func refused(doc, resource, field, message string) *apiError {
	return validationFailed(doc, validationError{Resource: resource, Code: "custom", Field: field, Message: message})
}

func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if e.location != "" {
		w.Header().Set("Location", e.location)
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// writeJSON answers v with status. Successful answers carry a strong ETag,
// the SHA-256 of the body; a GET whose If-None-Match names it is answered
// 304 Not Modified without a body.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, Message: err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	h.Set("ETag", etag)
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatches implements If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}

func writeNoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

func (s *Server) isReadOnly(callerKey string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readOnly[callerKey]
}
