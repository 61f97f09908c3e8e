package ghwebhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzServeHTTP delivers arbitrary payloads, correctly signed or not, as
// GitHub would: the handler never panics, answers 2xx only to correctly
// signed deliveries (202 only to `issues` events, 200 only to `ping`) or,
// unread, 204 to events it does not use; refuses form-encoded bodies; and
// calls OnIssue exactly for the deliveries it answers 202.
func FuzzServeHTTP(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "github", "webhooks", "issues.*.json"))
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("issues", body, uint8(0))
	}
	f.Add("ping", []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`), uint8(0))
	f.Add("issues", []byte(`{"action":"transferred","issue":{"number":-1},"changes":{"new_issue":{"number":"x"}}}`), uint8(0))
	f.Add("issues", []byte(`{"action":"closed","issue":null,"repository":null}`), uint8(1))
	f.Add("issues", []byte(`{}`), uint8(2))
	f.Add("issues", []byte(`[1,2,3]`), uint8(0))
	f.Add("issues", []byte(`null`), uint8(0))
	f.Add("pull_request", []byte(`{"action":"opened"}`), uint8(3))
	f.Add("pull_request", []byte(`{"action":"opened"}`), uint8(2))
	f.Add("ping", []byte(`{"zen":"x"}`), uint8(2))
	f.Add("repository", []byte(`{"action":"renamed","repository":{"id":1}}`), uint8(0))
	f.Add("", []byte("not json"), uint8(0))
	f.Add("issues", []byte(`{"action":"closed","issue":{"number":7,"state":"closed","body":"<!-- cxloop:key=ns/j/painpoint/x -->"},"repository":{"name":"r","owner":{"login":"o"}}}`), uint8(4))
	f.Add("issues", []byte(`{"action":"reopened","issue":{"number":7}}`), uint8(12))

	f.Fuzz(func(t *testing.T, event string, body []byte, mode uint8) {
		// A handler of its own, so that what one input delivered is no replay for the next.
		h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, MaxBody: 1 << 16}
		calls := 0
		h.OnIssue = func(_ context.Context, e IssueEvent) error {
			calls++
			if e.Delivery == "" {
				t.Errorf("issue event without a delivery: %+v", e)
			}
			return nil
		}
		// mode picks how the delivery arrives: signed JSON, signed form,
		// mis-signed, or unsigned (mode%4); whether it is redelivered
		// (mode&4); whether it lacks a delivery ID (mode&8).
		payload, contentType := body, "application/json"
		if mode%4 == 1 {
			payload, contentType = []byte("payload="+url.QueryEscape(string(body))), "application/x-www-form-urlencoded"
		}
		key := secret
		if mode%4 == 2 {
			key = []byte("not-the-secret")
		}
		signature := sign(key, payload)
		delivery := "72d3162e-cc78-11e3-81ab-4c9367dc0958"
		if mode&8 != 0 {
			delivery = "" // the handler names it by the payload's digest
		}
		deliver := func() int {
			req := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(payload))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("X-GitHub-Event", event)
			if delivery != "" {
				req.Header.Set("X-GitHub-Delivery", delivery)
			}
			if mode%4 != 3 {
				req.Header.Set("X-Hub-Signature-256", signature)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		code := deliver()
		signed := mode%4 == 0 // form-encoded bodies are refused whatever their signature
		if code >= 200 && code < 300 && !signed && (mode%4 == 3 || usedEvents[event] || code != http.StatusNoContent) {
			t.Fatalf("answered %d to a %q delivery that is not correctly signed (mode %d)", code, event, mode)
		}
		if mode%4 == 1 && code != http.StatusUnsupportedMediaType {
			t.Fatalf("answered %d to a form-encoded delivery, want 415", code)
		}
		if code == http.StatusAccepted && event != EventIssues {
			t.Fatalf("answered 202 to a %q event", event)
		}
		if code == http.StatusOK && event != EventPing {
			t.Fatalf("answered 200 to a first %q delivery", event)
		}
		if code >= 200 && code < 300 && code != http.StatusAccepted && code != http.StatusNoContent && code != http.StatusOK {
			t.Fatalf("answered %d to a first delivery", code)
		}
		if wantCalls := map[bool]int{true: 1, false: 0}[code == http.StatusAccepted]; calls != wantCalls {
			t.Fatalf("answered %d and called OnIssue %d times", code, calls)
		}
		if code == http.StatusNoContent && event == EventIssues {
			t.Fatalf("a verified issues event was answered 204 as if it were of another kind")
		}
		// GitHub redelivers: a delivery accepted once is not acted on again.
		if mode&4 != 0 && code == http.StatusAccepted {
			if again := deliver(); again != http.StatusOK || calls != 1 {
				t.Fatalf("redelivery answered %d and OnIssue called %d times in all", again, calls)
			}
		}
	})
}
