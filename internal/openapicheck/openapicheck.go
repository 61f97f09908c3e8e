// Package openapicheck validates HTTP exchanges against GitHub's OpenAPI
// description (testdata/github/openapi), with kin-openapi: it sits in
// front of a handler (the local GitHub) and checks every request body a
// client sends and every answer the handler gives for the operations it
// is told to watch. Tests use it; nothing in cxloop's binaries does.
package openapicheck

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// BoardPaths are the paths of the board's operations: Projects (v2),
// sub-issues, dependencies, issue types, and the single-issue reads and
// edits the relations use.
var BoardPaths = regexp.MustCompile(`/projectsV2|/sub_issue|/dependencies/|/issue-types|^/repos/[^/]+/[^/]+/issues/[0-9]+$`)

var (
	routersMu sync.Mutex
	routersOf = map[string]routers.Router{}
)

// loadRouter loads the description at path once per process (it is large).
func loadRouter(path string) (routers.Router, error) {
	routersMu.Lock()
	defer routersMu.Unlock()
	if r, ok := routersOf[path]; ok {
		return r, nil
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	doc.Servers = openapi3.Servers{{URL: "https://api.github.com"}}
	relaxItemContent(doc)
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing %s: %w", path, err)
	}
	routersOf[path] = r
	return r, nil
}

// relaxItemContent turns the oneOf of an added item's content (issue, pull
// request, draft issue) into anyOf. The draft issue's schema requires only
// fields every issue has and allows more, so every issue matches two of
// the alternatives and no answer GitHub gives could satisfy oneOf; anyOf
// still demands that the content be a valid issue (or one of the others).
func relaxItemContent(doc *openapi3.T) {
	for _, path := range []string{"/orgs/{org}/projectsV2/{project_number}/items", "/users/{username}/projectsV2/{project_number}/items"} {
		item := doc.Paths.Find(path)
		if item == nil || item.Post == nil {
			continue
		}
		resp := item.Post.Responses.Status(http.StatusCreated)
		if resp == nil || resp.Value == nil {
			continue
		}
		mt := resp.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			continue
		}
		if content := mt.Schema.Value.Properties["content"]; content != nil && content.Value != nil && len(content.Value.OneOf) > 0 {
			content.Value.AnyOf, content.Value.OneOf = content.Value.OneOf, nil
		}
	}
}

// Validator sits between a client and the local GitHub: it validates
// every request body the client sends to a watched operation and every
// answer the local GitHub gives, against the operation's schemas.
type Validator struct {
	router routers.Router
	watch  *regexp.Regexp

	mu       sync.Mutex
	problems []string
	// validated counts, by operation ID, the requests and answers checked.
	requests, answers map[string]int
	// busy counts the exchanges still being checked: a client has its
	// answer before the validator is done with it, so the readers of the
	// counts and problems wait for those first.
	busy int
}

// settleWait is how long the readers wait for the exchanges in flight.
const settleWait = 5 * time.Second

// settled takes v.mu once no exchange is being checked, or settleWait
// has passed (a handler that never returns must not hang the test).
func (v *Validator) settled() {
	deadline := time.Now().Add(settleWait)
	for {
		v.mu.Lock()
		if v.busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			// Say so rather than count short in silence.
			v.problems = append(v.problems, fmt.Sprintf("%d exchanges still being checked after %s: the counts miss them", v.busy, settleWait))
			return
		}
		v.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

// New returns a Validator of the description at specPath for the
// requests whose path watch matches.
func New(specPath string, watch *regexp.Regexp) (*Validator, error) {
	r, err := loadRouter(specPath)
	if err != nil {
		return nil, err
	}
	return &Validator{router: r, watch: watch, requests: map[string]int{}, answers: map[string]int{}}, nil
}

func (v *Validator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// Problems are the validation failures so far.
func (v *Validator) Problems() []string {
	v.settled()
	defer v.mu.Unlock()
	return append([]string(nil), v.problems...)
}

// Validated is how many requests and answers of operation were checked.
func (v *Validator) Validated(operation string) (requests, answers int) {
	v.settled()
	defer v.mu.Unlock()
	return v.requests[operation], v.answers[operation]
}

// Operations lists the operations checked.
func (v *Validator) Operations() []string {
	v.settled()
	defer v.mu.Unlock()
	var out []string
	for op := range v.requests {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Wrap returns next behind the validator.
func (v *Validator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.watch.MatchString(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		v.mu.Lock()
		v.busy++
		v.mu.Unlock()
		defer func() {
			v.mu.Lock()
			v.busy--
			v.mu.Unlock()
		}()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recordingWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)

		ctx := context.Background()
		u, _ := url.Parse("https://api.github.com" + r.URL.RequestURI())
		probe, _ := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
		probe.Header = r.Header.Clone()
		route, params, err := v.router.FindRoute(probe)
		if err != nil {
			v.fail("%s %s: no operation in the OpenAPI description: %v", r.Method, r.URL.Path, err)
			return
		}
		op := route.Operation.OperationID
		in := &openapi3filter.RequestValidationInput{
			Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.fail("request %s %s (%s) body %s: %v", r.Method, r.URL.Path, op, body, err)
		}
		v.mu.Lock()
		v.requests[op]++
		v.mu.Unlock()
		// A dropped answer was never written; a 304 has no body.
		if rec.status == 0 || rec.status == http.StatusNotModified {
			return
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.status, Header: rec.Header(),
			Body:    io.NopCloser(bytes.NewReader(rec.body.Bytes())),
			Options: &openapi3filter.Options{MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			v.fail("answer %d to %s %s (%s): %v\n%s", rec.status, r.Method, r.URL.Path, op, err, truncate(rec.body.String(), 400))
		}
		v.mu.Lock()
		v.answers[op]++
		v.mu.Unlock()
	})
}

// Serve starts a test server that answers through the validator, and
// returns it with the function that sets the handler it validates: a
// server under test often needs the base URL before it can be built.
// The server closes when the test ends, which then fails on any problem.
func (v *Validator) Serve(t testing.TB) (*httptest.Server, func(http.Handler)) {
	var (
		mu sync.Mutex
		h  http.Handler = http.NotFoundHandler()
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		next := h
		mu.Unlock()
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		for _, p := range v.Problems() {
			t.Errorf("OpenAPI: %s", p)
		}
	})
	return hs, func(next http.Handler) {
		mu.Lock()
		h = v.Wrap(next)
		mu.Unlock()
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// recordingWriter keeps a copy of the answer. It unwraps to the
// connection, so that the local GitHub can drop an answer.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the local GitHub close the connection without answering.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
