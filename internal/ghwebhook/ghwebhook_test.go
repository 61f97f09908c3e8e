package ghwebhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

var secret = []byte("webhook-secret")

func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func deliver(t *testing.T, h http.Handler, event string, body []byte, signature string) (int, []IssueEvent) {
	t.Helper()
	var got []IssueEvent
	hh := h.(*Handler)
	hh.OnIssue = func(_ context.Context, e IssueEvent) error { got = append(got, e); return nil }
	req := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", nextDelivery())
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, got
}

var deliveries atomic.Int64

func nextDelivery() string { return fmt.Sprintf("72d3162e-cc78-11e3-81ab-%012d", deliveries.Add(1)) }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "github", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func handler() *Handler {
	return &Handler{Secrets: func() [][]byte { return [][]byte{secret} }}
}

// TestRecordedPayloadsParse: GitHub's own examples of the issues event
// verify and parse into what the controllers need.
func TestRecordedPayloadsParse(t *testing.T) {
	tests := []struct {
		file string
		want IssueEvent
	}{
		{"issues.opened.json", IssueEvent{Action: "opened", Owner: "Codertocat", Repo: "Hello-World", RepoID: 186853002, Number: 1, State: "open", Labels: []string{"bug"}}},
		{"issues.reopened.json", IssueEvent{Action: "reopened", Owner: "Codertocat", Repo: "Hello-World", RepoID: 186853002, Number: 1, State: "open", Labels: []string{"bug"}}},
		{"issues.edited.json", IssueEvent{Action: "edited", Owner: "Codertocat", Repo: "Hello-World", RepoID: 186853002, Number: 1, State: "open", Labels: []string{"bug"}}},
		{"issues.deleted.json", IssueEvent{Action: "deleted", Owner: "Codertocat", Repo: "Hello-World", RepoID: 186853002, Number: 1, State: "closed", Labels: []string{"bug"}}},
		{"issues.transferred.json", IssueEvent{Action: "transferred", Owner: "octo-org", Repo: "octo-repo", RepoID: 17273051, Number: 1, State: "open", NewOwner: "Codertocat", NewRepo: "Hello-World", NewNumber: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := fixture(t, tt.file)
			code, got := deliver(t, handler(), "issues", body, sign(secret, body))
			if code != http.StatusAccepted || len(got) != 1 {
				t.Fatalf("code %d, events %v", code, got)
			}
			got[0].Body, got[0].Delivery = "", ""
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("got %+v, want %+v", got[0], tt.want)
			}
		})
	}
}

func TestUnsignedOrMissignedDeliveriesAreRefused(t *testing.T) {
	body := fixture(t, "issues.opened.json")
	tampered := append(bytes.Clone(body[:len(body)-2]), []byte(" }")...)
	tests := []struct {
		name      string
		body      []byte
		signature string
	}{
		{"no signature", body, ""},
		{"signed with another secret", body, sign([]byte("guess"), body)},
		{"body changed after signing", tampered, sign(secret, body)},
		{"sha1 signature only", body, "sha1=" + hex.EncodeToString(make([]byte, 20))},
		{"garbage", body, "sha256=zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := deliver(t, handler(), "issues", tt.body, tt.signature)
			if code != http.StatusUnauthorized || len(got) != 0 {
				t.Errorf("code %d, events %v: want 401 and nothing passed on", code, got)
			}
		})
	}
}

// TestDocumentedSignatureVector: GitHub's documented test vector passes
// the signature check (the body is not an event, so it is then refused as
// unreadable, not as unsigned).
func TestDocumentedSignatureVector(t *testing.T) {
	h := &Handler{Secrets: func() [][]byte { return [][]byte{[]byte("It's a Secret to Everybody")} }}
	code, _ := deliver(t, h, "issues", []byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	if code != http.StatusBadRequest {
		t.Errorf("code %d, want 400 (signature accepted, payload unreadable)", code)
	}
	code, _ = deliver(t, h, "issues", []byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18")
	if code != http.StatusUnauthorized {
		t.Errorf("code %d for a wrong signature, want 401", code)
	}
}

func TestOtherEventsAndMissingSecret(t *testing.T) {
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	if code, got := deliver(t, handler(), "ping", body, sign(secret, body)); code != http.StatusOK || len(got) != 0 {
		t.Errorf("ping: code %d, events %v, want 200", code, got)
	}
	if code, _ := deliver(t, handler(), "ping", body, sign([]byte("guess"), body)); code != http.StatusUnauthorized {
		t.Errorf("mis-signed ping: code %d, want 401 (a ping tells whether the secrets agree)", code)
	}
	h := &Handler{Secrets: func() [][]byte { return nil }}
	if code, _ := deliver(t, h, "issues", body, sign(nil, body)); code != http.StatusServiceUnavailable {
		t.Errorf("without a secret: code %d, want 503", code)
	}
}
