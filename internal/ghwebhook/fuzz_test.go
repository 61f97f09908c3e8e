package ghwebhook

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzServeHTTP delivers arbitrary payloads, correctly signed or not, as
// GitHub would: the handler never panics, answers 2xx only to correctly
// signed deliveries (202 only to `issues` events, 204 to other events),
// and calls OnIssue exactly for the deliveries it answers 202.
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
	f.Add("", []byte("not json"), uint8(0))

	h := &Handler{Secret: func() ([]byte, error) { return secret, nil }, MaxBody: 1 << 16}
	var n int
	f.Fuzz(func(t *testing.T, event string, body []byte, mode uint8) {
		calls := 0
		h.OnIssue = func(_ context.Context, e IssueEvent) error {
			calls++
			if e.Delivery == "" {
				t.Errorf("issue event without a delivery: %+v", e)
			}
			return nil
		}
		// mode picks how the delivery arrives: signed JSON, signed form,
		// mis-signed, or unsigned.
		payload, contentType := body, "application/json"
		if mode%4 == 1 {
			payload, contentType = []byte("payload="+url.QueryEscape(string(body))), "application/x-www-form-urlencoded"
		}
		signature := sign(secret, payload)
		switch mode % 4 {
		case 2:
			signature = sign([]byte("not-the-secret"), payload)
		case 3:
			signature = ""
		}
		n++
		req := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(payload))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("fuzz-%d", n))
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		code := rec.Code
		signed := mode%4 < 2
		if code >= 200 && code < 300 && !signed {
			t.Fatalf("answered %d to a delivery that is not correctly signed", code)
		}
		if code == http.StatusAccepted && event != "issues" {
			t.Fatalf("answered 202 to a %q event", event)
		}
		if code >= 200 && code < 300 && code != http.StatusAccepted && code != http.StatusNoContent {
			t.Fatalf("answered %d to a first delivery", code)
		}
		if wantCalls := map[bool]int{true: 1, false: 0}[code == http.StatusAccepted]; calls != wantCalls {
			t.Fatalf("answered %d and called OnIssue %d times", code, calls)
		}
		if code == http.StatusNoContent && event == "issues" {
			t.Fatalf("a verified issues event was answered 204 as if it were of another kind")
		}
	})
}
