package ghwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// githubExamples are GitHub's example payloads by event
// (@octokit/webhooks-examples; see the README beside them).
func githubExamples(t *testing.T) map[string][]json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "octokit-webhooks-examples", "examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	out := map[string][]json.RawMessage{}
	for _, e := range events {
		out[e.Name] = append(out[e.Name], e.Examples...)
	}
	return out
}

// TestEveryGitHubEventIsAcknowledged: every example of every event GitHub
// documents, signed, is answered 2xx: `issues` 202 and passed on, `ping`
// 200, `repository` 202 and passed on, every other event 204. Events newer
// than the examples (sub_issues, repository_ruleset…) are acknowledged
// too. None shows as a failed delivery on GitHub.
func TestEveryGitHubEventIsAcknowledged(t *testing.T) {
	examples := githubExamples(t)
	examples["sub_issues"] = []json.RawMessage{json.RawMessage(`{"action":"sub_issue_added","sub_issue_id":1}`)}
	examples["repository_ruleset"] = []json.RawMessage{json.RawMessage(`{"action":"created","repository_ruleset":{"id":1}}`)}
	if len(examples) < 50 {
		t.Fatalf("only %d events in the examples", len(examples))
	}
	var issues []IssueEvent
	var repos []RepositoryEvent
	h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} },
		OnIssue:      func(_ context.Context, e IssueEvent) error { issues = append(issues, e); return nil },
		OnRepository: func(_ context.Context, e RepositoryEvent) error { repos = append(repos, e); return nil },
	}
	want := map[string]int{EventIssues: http.StatusAccepted, EventPing: http.StatusOK, EventRepository: http.StatusAccepted}
	deliveries := 0
	for event, list := range examples {
		for _, body := range list {
			deliveries++
			code := serve(h, httpRequest(event, body, sign(secret, body)))
			wantCode, used := want[event]
			if !used {
				wantCode = http.StatusNoContent
			}
			if code != wantCode {
				t.Errorf("%s (%.60s…): answered %d, want %d", event, body, code, wantCode)
			}
		}
	}
	if len(issues) != len(examples[EventIssues]) || len(repos) != len(examples[EventRepository]) {
		t.Errorf("%d issues and %d repository events passed on, want %d and %d", len(issues), len(repos), len(examples[EventIssues]), len(examples[EventRepository]))
	}
	for _, e := range issues {
		if e.RepoID == 0 || e.Owner == "" || e.Repo == "" || e.Number == 0 {
			t.Errorf("issue event without its repository or number: %+v", e)
		}
	}
	renamed, transferred := false, false
	for _, e := range repos {
		if e.RepoID == 0 || e.Owner == "" || e.Repo == "" {
			t.Errorf("repository event without its repository: %+v", e)
		}
		renamed = renamed || e.Action == "renamed" && e.OldRepo != ""
		transferred = transferred || e.Action == "transferred" && e.OldOwner != ""
	}
	if !renamed || !transferred {
		t.Errorf("the old name of a renamed or the old owner of a transferred repository is missing: %+v", repos)
	}
	t.Logf("%d events, %d signed deliveries: all acknowledged", len(examples), deliveries)
}

// TestBodyCapFitsTheLargestIssueDelivery measures DefaultMaxBody against
// the largest `issues` delivery GitHub can send: the largest of its
// examples (a `transferred` one, which carries the issue twice) and an
// `edited` one (the body and its previous version), each with bodies of
// GitHub's maximum 65,536 characters that JSON escapes six bytes each.
// Both are accepted.
func TestBodyCapFitsTheLargestIssueDelivery(t *testing.T) {
	examples := githubExamples(t)[EventIssues]
	largest := map[string]json.RawMessage{}
	for _, raw := range examples {
		var e struct{ Action string }
		_ = json.Unmarshal(raw, &e)
		if len(raw) > len(largest[e.Action]) {
			largest[e.Action] = raw
		}
	}
	worstBody := strings.Repeat("\x01", 65536) // written as \u0001
	for _, action := range []string{"transferred", "edited"} {
		var p map[string]any
		if err := json.Unmarshal(largest[action], &p); err != nil {
			t.Fatal(err)
		}
		p["issue"].(map[string]any)["body"] = worstBody
		p["issue"].(map[string]any)["title"] = strings.Repeat("\x01", 256)
		changes, _ := p["changes"].(map[string]any)
		if changes == nil {
			changes = map[string]any{}
			p["changes"] = changes
		}
		switch action {
		case "transferred":
			changes["new_issue"].(map[string]any)["body"] = worstBody
		case "edited":
			changes["body"] = map[string]any{"from": worstBody}
		}
		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("largest %s delivery: %d bytes (the example: %d), cap %d", action, len(body), len(largest[action]), DefaultMaxBody)
		if len(body) > DefaultMaxBody {
			t.Errorf("a %s delivery of %d bytes exceeds the cap of %d", action, len(body), DefaultMaxBody)
		}
		var got []IssueEvent
		h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} },
			OnIssue: func(_ context.Context, e IssueEvent) error { got = append(got, e); return nil }}
		if code := serve(h, httpRequest(EventIssues, body, sign(secret, body))); code != http.StatusAccepted || len(got) != 1 || got[0].Body != worstBody {
			t.Errorf("the largest %s delivery answered %d", action, code)
		}
	}
}

// TestRotation: a delivery signed with the previous secret is accepted
// while the handler has it, and refused once it is gone. (With the
// watched Secret: controllers.TestWebhookSecretRotation.)
func TestRotation(t *testing.T) {
	old, current := []byte("old-secret"), []byte("new-secret")
	secrets := [][]byte{current, old}
	h := &Handler{Secrets: func() [][]byte { return secrets }, OnIssue: func(context.Context, IssueEvent) error { return nil }}
	body := fixture(t, "issues.opened.json")
	for _, tt := range []struct {
		name string
		key  []byte
		want int
	}{{"current", current, http.StatusAccepted}, {"previous", old, http.StatusAccepted}, {"neither", []byte("guess"), http.StatusUnauthorized}} {
		if code := serve(h, httpRequest(EventIssues, body, sign(tt.key, body))); code != tt.want {
			t.Errorf("signed with the %s secret during the rotation: %d, want %d", tt.name, code, tt.want)
		}
	}
	secrets = [][]byte{current}
	if code := serve(h, httpRequest(EventIssues, body, sign(old, body))); code != http.StatusUnauthorized {
		t.Errorf("signed with the previous secret after the rotation: %d, want 401", code)
	}
}

func serve(h http.Handler, req *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func httpRequest(event string, body []byte, signature string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", nextDelivery())
	req.Header.Set("X-Hub-Signature-256", signature)
	return req
}

// countingBody counts the bytes read from it.
type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// TestRefusedUnread: what can be refused before a slot is taken is refused
// without reading a byte of the body or looking at the secrets.
func TestRefusedUnread(t *testing.T) {
	valid := fixture(t, "issues.opened.json")
	var lookups int
	h := &Handler{Secrets: func() [][]byte { lookups++; return [][]byte{secret} }, MaxBody: 1 << 10}
	for _, tt := range []struct {
		name        string
		method      string
		contentType string
		event       string
		signature   string
		length      int64
		want        int
	}{
		{"GET", http.MethodGet, "application/json", "issues", sign(secret, valid), -1, http.StatusMethodNotAllowed},
		{"form-encoded", http.MethodPost, "application/x-www-form-urlencoded", "issues", sign(secret, valid), -1, http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPost, "", "issues", sign(secret, valid), -1, http.StatusUnsupportedMediaType},
		{"no event", http.MethodPost, "application/json", "", sign(secret, valid), -1, http.StatusBadRequest},
		{"no signature", http.MethodPost, "application/json", "issues", "", -1, http.StatusUnauthorized},
		{"sha1 signature", http.MethodPost, "application/json", "issues", "sha1=" + strings.Repeat("0", 40), -1, http.StatusUnauthorized},
		{"event cxloop does not use", http.MethodPost, "application/json", "pull_request", sign([]byte("guess"), valid), -1, http.StatusNoContent},
		{"Content-Length above the cap", http.MethodPost, "application/json", "issues", sign(secret, valid), 1<<10 + 1, http.StatusRequestEntityTooLarge},
	} {
		body := &countingBody{r: bytes.NewReader(valid)}
		req := httptest.NewRequest(tt.method, "/github/webhook", body)
		req.ContentLength = tt.length
		req.Header.Set("Content-Type", tt.contentType)
		req.Header.Set("X-GitHub-Event", tt.event)
		req.Header.Set("X-Hub-Signature-256", tt.signature)
		if code := serve(h, req); code != tt.want || body.read != 0 || lookups != 0 {
			t.Errorf("%s: answered %d after reading %d bytes and %d secret lookups; want %d, none read, no lookup", tt.name, code, body.read, lookups, tt.want)
		}
	}
}

// TestNoSlotNoSecret: while every slot is held (by slow senders), a
// delivery waits SlotWait, is answered 503, and has not looked at the
// secrets nor read its body; once a slot frees up, deliveries pass again.
// The in-flight bytes bound the same way.
func TestNoSlotNoSecret(t *testing.T) {
	valid := fixture(t, "issues.opened.json")
	var lookups atomic.Int64
	for _, tt := range []struct {
		name string
		h    *Handler
	}{
		{"slots", &Handler{Concurrency: 1}},
		{"bytes", &Handler{Concurrency: 8, MaxBody: 1 << 20, InFlightBytes: 1 << 20}},
	} {
		h := tt.h
		lookups.Store(0)
		h.SlotWait = 100 * time.Millisecond
		h.Secrets = func() [][]byte { lookups.Add(1); return [][]byte{secret} }
		h.OnIssue = func(context.Context, IssueEvent) error { return nil }
		// A sender that holds a slot (and, of unknown length, the whole
		// cap of bytes) until released.
		slow, release := io.Pipe()
		held := make(chan int)
		go func() {
			req := httpRequest(EventIssues, nil, sign([]byte("guess"), valid))
			req.Body, req.ContentLength = slow, -1
			held <- serve(h, req)
		}()
		for lookups.Load() == 0 {
			time.Sleep(time.Millisecond) // the slow sender took its slot and looked
		}
		lookups.Store(0)
		body := &countingBody{r: bytes.NewReader(valid)}
		req := httpRequest(EventIssues, nil, sign(secret, valid))
		req.Body, req.ContentLength = io.NopCloser(body), int64(len(valid))
		if code := serve(h, req); code != http.StatusServiceUnavailable || body.read != 0 || lookups.Load() != 0 {
			t.Errorf("%s: no slot: answered %d after reading %d bytes and %d secret lookups; want 503, none", tt.name, code, body.read, lookups.Load())
		}
		_ = release.Close()
		if code := <-held; code != http.StatusUnauthorized {
			t.Errorf("%s: the slow, mis-signed sender was answered %d", tt.name, code)
		}
		if code := serve(h, httpRequest(EventIssues, valid, sign(secret, valid))); code != http.StatusAccepted {
			t.Errorf("%s: after the slot freed up: %d, want 202", tt.name, code)
		}
	}
}
