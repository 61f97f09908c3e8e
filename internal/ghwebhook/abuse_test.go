package ghwebhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cxloop/cxloop/internal/ghwebhook/ghwebhooktest"
)

// post delivers body with the given delivery ID through a real HTTP server.
func post(t *testing.T, url, event, delivery string, body io.Reader, length int64, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The server may close the connection on an oversized body before
		// reading it all; that is a refusal too.
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// zeros is an endless-looking body that never holds more than a page in memory.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	clear(p[:n])
	z.left -= n
	return int(n), nil
}

// TestWebhookAbuse: every kind of bad delivery is answered with a 4xx (or,
// for a replay, accepted once) and nothing but the first valid delivery
// reaches OnIssue.
func TestWebhookAbuse(t *testing.T) {
	var calls atomic.Int64
	h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, MaxBody: 1 << 20,
		OnIssue: func(context.Context, IssueEvent) error { calls.Add(1); return nil }}
	srv := httptest.NewServer(h)
	defer srv.Close()
	valid := fixture(t, "issues.opened.json")

	const huge = 400 << 20 // what was seen to take the manager from 41 MB to 919 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cases := []struct {
		name string
		send func() int
		want int
	}{
		{"oversized with Content-Length", func() int {
			return post(t, srv.URL, "issues", nextDelivery(), &zeros{huge}, huge, sign([]byte("guess"), valid))
		}, http.StatusRequestEntityTooLarge},
		{"oversized chunked, validly signed prefix", func() int {
			return post(t, srv.URL, "issues", nextDelivery(), &zeros{huge}, -1, sign(secret, valid))
		}, http.StatusRequestEntityTooLarge},
		{"unsigned", func() int {
			return post(t, srv.URL, "issues", nextDelivery(), bytes.NewReader(valid), int64(len(valid)), "")
		}, http.StatusUnauthorized},
		{"mis-signed", func() int {
			return post(t, srv.URL, "issues", nextDelivery(), bytes.NewReader(valid), int64(len(valid)), sign([]byte("guess"), valid))
		}, http.StatusUnauthorized},
		{"malformed JSON, validly signed", func() int {
			bad := []byte(`{"action": "closed", "issue": {`)
			return post(t, srv.URL, "issues", nextDelivery(), bytes.NewReader(bad), int64(len(bad)), sign(secret, bad))
		}, http.StatusBadRequest},
		{"event cxloop does not use, acknowledged unread", func() int {
			return post(t, srv.URL, "sub_issues", nextDelivery(), &zeros{huge}, huge, sign(secret, valid))
		}, http.StatusNoContent},
		{"signed, but cut short of its Content-Length", func() int {
			return post(t, srv.URL, "issues", nextDelivery(), bytes.NewReader(valid[:100]), int64(len(valid)), sign(secret, valid))
		}, http.StatusBadRequest},
	}
	for _, c := range cases {
		if got := c.send(); got != c.want && got != 0 {
			t.Errorf("%s: answered %d, want %d", c.name, got, c.want)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 64<<20 {
		t.Errorf("handling the bad deliveries allocated %d MiB: bodies were read past the limit", grew>>20)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d bad deliveries reached OnIssue", n)
	}

	id := nextDelivery()
	if got := post(t, srv.URL, "issues", id, bytes.NewReader(valid), int64(len(valid)), sign(secret, valid)); got != http.StatusAccepted {
		t.Fatalf("valid delivery: %d", got)
	}
	if got := post(t, srv.URL, "issues", id, bytes.NewReader(valid), int64(len(valid)), sign(secret, valid)); got != http.StatusOK {
		t.Errorf("replayed delivery: %d, want 200 without acting again", got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("OnIssue called %d times for one delivery and its replay, want 1", n)
	}
}

// TestFailedRecordingCanBeRedelivered: when the delivery cannot be
// recorded, GitHub is told so (503), and a redelivery of the same ID is
// acted on, not refused as a replay.
func TestFailedRecordingCanBeRedelivered(t *testing.T) {
	fail := true
	var calls int
	h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, OnIssue: func(context.Context, IssueEvent) error {
		calls++
		if fail {
			return errors.New("API server unavailable")
		}
		return nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	valid := fixture(t, "issues.opened.json")
	id := nextDelivery()
	if got := post(t, srv.URL, "issues", id, bytes.NewReader(valid), int64(len(valid)), sign(secret, valid)); got != http.StatusServiceUnavailable {
		t.Fatalf("failed recording answered %d, want 503", got)
	}
	fail = false
	if got := post(t, srv.URL, "issues", id, bytes.NewReader(valid), int64(len(valid)), sign(secret, valid)); got != http.StatusAccepted {
		t.Fatalf("redelivery answered %d, want 202", got)
	}
	if calls != 2 {
		t.Errorf("OnIssue called %d times, want 2", calls)
	}
}

// TestFloodOfValidDeliveries: many valid deliveries at once are each
// accepted exactly once, while no more than Concurrency are read at a time.
func TestFloodOfValidDeliveries(t *testing.T) {
	var inFlight, peak, calls atomic.Int64
	h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, Concurrency: 2, OnIssue: func(context.Context, IssueEvent) error {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		calls.Add(1)
		inFlight.Add(-1)
		return nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	valid := fixture(t, "issues.opened.json")
	var wg sync.WaitGroup
	codes := make([]int, 200)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, srv.URL, "issues", nextDelivery(), bytes.NewReader(valid), int64(len(valid)), sign(secret, valid))
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Fatalf("delivery %d answered %d", i, c)
		}
	}
	if calls.Load() != int64(len(codes)) {
		t.Errorf("OnIssue called %d times for %d deliveries", calls.Load(), len(codes))
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d deliveries handled at once, want at most 2", p)
	}
}

// TestAbuseAtOnce: issue 17's attack, all at once and over and over for
// 8 s, against the handler behind the server the manager runs: a 400 MB
// body, 8 × 20 MB bogus-signed JSON bodies, 8 × 20 MB form-encoded ones
// and 8 slow senders, while GitHub delivers every 100 ms. The heap grows
// by less than 32 MiB, every valid delivery is accepted within 2 s, and
// nothing of the junk reaches OnIssue. (The manager's version of this
// test, with the watched Secret, counts the API server's Secret reads:
// controllers.TestWebhookAbuseCostsNoSecretReads.)
func TestAbuseAtOnce(t *testing.T) {
	var secretReads, calls atomic.Int64
	h := &Handler{
		Secrets: func() [][]byte { secretReads.Add(1); return [][]byte{secret} },
		OnIssue: func(context.Context, IssueEvent) error { calls.Add(1); return nil },
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(l.Addr().String(), h)
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	rep := ghwebhooktest.Attack{URL: "http://" + l.Addr().String() + "/github/webhook", Secret: secret, Valid: fixture(t, "issues.opened.json")}.Run(context.Background())
	t.Logf("abuse at once: %s; %d secret lookups (cached, after a slot)", rep, secretReads.Load())
	rep.Check(t)
	if n := calls.Load(); n != int64(len(rep.Valid)) {
		t.Errorf("OnIssue called %d times for %d valid deliveries", n, len(rep.Valid))
	}
}
