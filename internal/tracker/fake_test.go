package tracker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is a tiny in-test GitHub for the issue endpoints, used to show
// behaviour independently of internal/localgithub.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	issues    []map[string]any
	log       []string // "METHOD path status [cond]"
	dropNext  bool     // commit the next POST, then drop the connection
	fail5xx   int      // answer the next N POSTs 502 without committing
	remaining int
	handler   func(w http.ResponseWriter, r *http.Request) bool // optional override
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, remaining: 5000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) URL() string { return f.srv.URL + "/" }

func (f *fakeGitHub) logged() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeGitHub) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issues)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	if f.handler != nil && f.handler(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	entry := r.Method + " " + r.URL.Path
	status := 200
	defer func() {
		if r.Header.Get("If-None-Match") != "" {
			entry += " cond"
		}
		f.log = append(f.log, entry+" "+strconv.Itoa(status))
	}()
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/repos/o/r/issues":
		var out []map[string]any
		for i := len(f.issues) - 1; i >= 0; i-- {
			out = append(out, f.issues[i])
		}
		if out == nil {
			out = []map[string]any{}
		}
		b, _ := json.Marshal(out)
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			status = http.StatusNotModified
			w.WriteHeader(status)
			return
		}
		f.remaining--
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
		_, _ = w.Write(b)
	case r.Method == http.MethodPost && r.URL.Path == "/repos/o/r/issues":
		if f.fail5xx > 0 {
			f.fail5xx--
			status = http.StatusBadGateway
			http.Error(w, `{"message":"Server Error"}`, status)
			return
		}
		var in struct {
			Title  string   `json:"title"`
			Body   string   `json:"body"`
			Labels []string `json:"labels"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		n := len(f.issues) + 1
		var labels []map[string]any
		for _, l := range in.Labels {
			labels = append(labels, map[string]any{"name": l})
		}
		is := map[string]any{
			"number": n, "title": in.Title, "body": in.Body, "state": "open", "labels": labels,
			"html_url":   fmt.Sprintf("https://github.com/o/r/issues/%d", n),
			"created_at": time.Now().UTC().Format(time.RFC3339), "updated_at": time.Now().UTC().Format(time.RFC3339),
		}
		f.issues = append(f.issues, is)
		if f.dropNext {
			f.dropNext = false
			status = 0
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return
		}
		status = http.StatusCreated
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(is)
	default:
		status = http.StatusNotFound
		http.Error(w, `{"message":"Not Found"}`, status)
	}
}

func fakeClient(t *testing.T, f *fakeGitHub, now func() time.Time) *Client {
	t.Helper()
	c, err := New(Config{Owner: "o", Repo: "r", APIURL: f.URL(),
		Credentials: Credentials{Token: "ghp_fake_" + strings.ReplaceAll(t.Name(), "/", "_") + strconv.FormatInt(time.Now().UnixNano(), 10)},
		Now:         now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
