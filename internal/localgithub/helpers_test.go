package localgithub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"
)

const testToken = "ghp_localgithubtesttoken000000000000000"

// startServer starts a Server on a free port with testToken accepted.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddToken(testToken)
	return s
}

// newServer is a Server that is not started (a test serves its
// Handler), with testToken accepted, closed when the test ends.
func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddToken(testToken)
	return s
}

// newClient returns a go-github client for the server.
func newClient(t *testing.T, s *Server, token string) *github.Client {
	t.Helper()
	c := github.NewClient(nil).WithAuthToken(token)
	base, err := url.Parse(s.URL())
	if err != nil {
		t.Fatalf("server URL: %v", err)
	}
	c.BaseURL, c.UploadURL = base, base
	return c
}

// rawClient shows every answer as is, redirects included.
var rawClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// response is a raw HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body.
func (r response) JSON(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
	return v
}

// call sends a request with testToken unless the header says otherwise.
func call(t *testing.T, s *Server, method, path string, body any, header ...string) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/")+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+testToken)
	req.Header.Set("Accept", "application/vnd.github.v3+json")
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// shapeOptions tune compareShape.
type shapeOptions struct {
	// sameLength requires arrays to have the recorded length.
	sameLength bool
	// nullable lists JSON keys whose value may be null in ours although
	// the recording has a value (GitHub documents them as nullable).
	nullable map[string]bool
	// sameValue lists JSON keys whose scalar values must be equal.
	sameValue map[string]bool
}

// compareShape reports where got lacks a field of want or holds a value of
// another JSON type. A null in want accepts any value.
func compareShape(path string, want, got any, o shapeOptions) []string {
	if want == nil {
		return nil
	}
	key := path[strings.LastIndex(path, ".")+1:]
	if got == nil {
		if o.nullable[key] {
			return nil
		}
		return []string{fmt.Sprintf("%s: want %s, got null", path, jsonType(want))}
	}
	if jsonType(want) != jsonType(got) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, jsonType(want), jsonType(got))}
	}
	var problems []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			problems = append(problems, compareShape(path+"."+k, w[k], gv, o)...)
		}
	case []any:
		g := got.([]any)
		if o.sameLength && len(w) != len(g) {
			problems = append(problems, fmt.Sprintf("%s: want %d elements, got %d", path, len(w), len(g)))
		}
		if len(w) == 0 {
			break
		}
		for i, gv := range g {
			wv := w[min(i, len(w)-1)] // extra elements are compared with the last recorded one
			problems = append(problems, compareShape(fmt.Sprintf("%s[%d]", path, i), wv, gv, o)...)
		}
	default:
		if o.sameValue[key] && want != got {
			problems = append(problems, fmt.Sprintf("%s: want %v, got %v", path, want, got))
		}
	}
	return problems
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// hookReceiver is a webhook endpoint recording what it is sent.
type hookReceiver struct {
	mu       sync.Mutex
	received []receivedHook
	failNext int // answer 500 to this many more requests
}

type receivedHook struct {
	Header http.Header
	Body   []byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failNext > 0 {
		h.failNext--
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	h.received = append(h.received, receivedHook{Header: r.Header.Clone(), Body: body})
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) hooks() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]receivedHook(nil), h.received...)
}

// waitDeliveries waits for the server's webhook queue to drain.
func waitDeliveries(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitForDeliveries(ctx); err != nil {
		t.Fatalf("WaitForDeliveries: %v", err)
	}
}

// newFakeClock is a clock that stands still until the test moves it.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}
