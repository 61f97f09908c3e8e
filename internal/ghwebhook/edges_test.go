package ghwebhook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signedRequest is a delivery of body signed with secret, its
// Content-Length given as length (-1: unknown, as a chunked body).
func signedRequest(event string, body []byte, length int64) *http.Request {
	req := httpRequest(event, body, sign(secret, body))
	req.ContentLength = length
	if length < 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return req
}

// recorder is a handler that keeps the issue and repository events it
// is given.
func recorder() (*Handler, *[]IssueEvent, *[]RepositoryEvent) {
	var issues []IssueEvent
	var repos []RepositoryEvent
	h := handler()
	h.OnIssue = func(_ context.Context, e IssueEvent) error { issues = append(issues, e); return nil }
	h.OnRepository = func(_ context.Context, e RepositoryEvent) error { repos = append(repos, e); return nil }
	return h, &issues, &repos
}

// TestSignatureHeaderForms: only "sha256=" and exactly 64 hex digits of
// the body's HMAC pass; any other form is refused as unsigned.
func TestSignatureHeaderForms(t *testing.T) {
	body := fixture(t, "issues.opened.json")
	good := sign(secret, body)
	hexSum := strings.TrimPrefix(good, "sha256=")
	for _, tc := range []struct {
		name, signature string
		want            int
	}{
		{"as GitHub sends it", good, http.StatusAccepted},
		{"hex in capitals", "sha256=" + strings.ToUpper(hexSum), http.StatusAccepted},
		{"prefix in capitals", "SHA256=" + hexSum, http.StatusUnauthorized},
		{"no prefix", hexSum, http.StatusUnauthorized},
		{"prefix only", "sha256=", http.StatusUnauthorized},
		{"one digit short", good[:len(good)-1], http.StatusUnauthorized},
		{"one digit more", good + "0", http.StatusUnauthorized},
		{"a space before the digits", "sha256= " + hexSum[1:], http.StatusUnauthorized},
		{"a trailing newline", good[:len(good)-1] + "\n", http.StatusUnauthorized},
		{"64 characters that are not hex", "sha256=" + strings.Repeat("g", 64), http.StatusUnauthorized},
		{"sha512 of the right length", "sha512=" + hexSum, http.StatusUnauthorized},
		{"the HMAC of another body", sign(secret, []byte("{}")), http.StatusUnauthorized},
		{"the plain SHA-256 of the body, no key", "sha256=" + sha256Hex(body), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, issues, _ := recorder()
			if code := serve(h, httpRequest(EventIssues, body, tc.signature)); code != tc.want {
				t.Errorf("answered %d, want %d", code, tc.want)
			}
			if accepted := tc.want == http.StatusAccepted; accepted != (len(*issues) == 1) {
				t.Errorf("%d events passed on", len(*issues))
			}
		})
	}
}

// TestContentTypes: JSON is accepted with parameters and in any case, as
// media types are; anything else is refused (415) before its signature is
// looked at.
func TestContentTypes(t *testing.T) {
	body := fixture(t, "issues.opened.json")
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", http.StatusAccepted},
		{"application/json; charset=utf-8", http.StatusAccepted},
		{"Application/JSON", http.StatusAccepted},
		{"text/json", http.StatusUnsupportedMediaType},
		{"application/vnd.github+json", http.StatusUnsupportedMediaType},
		{"application/jsonp", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"application/json; charset", http.StatusUnsupportedMediaType},
		{"json", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			h, _, _ := recorder()
			req := httpRequest(EventIssues, body, sign(secret, body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("answered %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

// TestVerifiedButUnreadablePayloads: a correctly signed body that is not
// the event it claims to be is refused (400) and passed on to nobody;
// ping is not parsed, so any signed body answers it.
func TestVerifiedButUnreadablePayloads(t *testing.T) {
	opened := fixture(t, "issues.opened.json")
	for _, tc := range []struct {
		name, event string
		body        []byte
		want        int
	}{
		{"issues: truncated", EventIssues, opened[:len(opened)/2], http.StatusBadRequest},
		{"issues: empty body", EventIssues, []byte{}, http.StatusBadRequest},
		{"issues: no action", EventIssues, []byte(`{"issue":{"number":1}}`), http.StatusBadRequest},
		{"issues: empty action", EventIssues, []byte(`{"action":""}`), http.StatusBadRequest},
		{"issues: action of the wrong type", EventIssues, []byte(`{"action":5}`), http.StatusBadRequest},
		{"issues: number of the wrong type", EventIssues, []byte(`{"action":"closed","issue":{"number":"1"}}`), http.StatusBadRequest},
		{"issues: an array", EventIssues, []byte(`[{"action":"closed"}]`), http.StatusBadRequest},
		{"issues: null", EventIssues, []byte(`null`), http.StatusBadRequest},
		{"issues: trailing garbage", EventIssues, append(bytes.Clone(opened), "}"...), http.StatusBadRequest},
		{"repository: truncated", EventRepository, []byte(`{"action":"renamed","repository":{`), http.StatusBadRequest},
		{"repository: no action", EventRepository, []byte(`{"repository":{"id":1}}`), http.StatusBadRequest},
		{"repository: owner of the wrong type", EventRepository, []byte(`{"action":"transferred","changes":{"owner":{"from":{"user":"octocat"}}}}`), http.StatusBadRequest},
		{"ping: not JSON, still answered", EventPing, []byte("Hello, World!"), http.StatusOK},
		{"issues: minimal, read", EventIssues, []byte(`{"action":"closed"}`), http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, issues, repos := recorder()
			code := serve(h, httpRequest(tc.event, tc.body, sign(secret, tc.body)))
			if code != tc.want {
				t.Errorf("answered %d, want %d", code, tc.want)
			}
			if passed := len(*issues) + len(*repos); passed != 0 && code != http.StatusAccepted {
				t.Errorf("%d events passed on for a delivery answered %d", passed, code)
			}
		})
	}
}

// TestIssueEventFields: what an `issues` delivery passes on, from the
// delivery's header and its payload; where a transferred issue went is
// read for `transferred` only.
func TestIssueEventFields(t *testing.T) {
	const body = `{"action":"%s","issue":{"number":7,"state":"open","body":"<!-- cxloop:key=shop/checkout/gap/x -->","labels":[{"id":1,"name":"cxloop"},{"id":2,"name":"quick win"}]},` +
		`"repository":{"id":42,"name":"journeys","owner":{"login":"acme"}},` +
		`"changes":{"new_issue":{"number":9},"new_repository":{"name":"archive","owner":{"login":"acme-old"}}}}`
	for _, tc := range []struct {
		action string
		want   IssueEvent
	}{
		{"transferred", IssueEvent{Action: "transferred", Owner: "acme", Repo: "journeys", RepoID: 42, Number: 7, State: "open",
			Body: "<!-- cxloop:key=shop/checkout/gap/x -->", Labels: []string{"cxloop", "quick win"}, NewOwner: "acme-old", NewRepo: "archive", NewNumber: 9}},
		{"edited", IssueEvent{Action: "edited", Owner: "acme", Repo: "journeys", RepoID: 42, Number: 7, State: "open",
			Body: "<!-- cxloop:key=shop/checkout/gap/x -->", Labels: []string{"cxloop", "quick win"}}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			h, issues, _ := recorder()
			payload := []byte(strings.Replace(body, "%s", tc.action, 1))
			req := httpRequest(EventIssues, payload, sign(secret, payload))
			req.Header.Set("X-GitHub-Delivery", "delivery-"+tc.action)
			if code := serve(h, req); code != http.StatusAccepted || len(*issues) != 1 {
				t.Fatalf("answered %d with %d events", code, len(*issues))
			}
			tc.want.Delivery = "delivery-" + tc.action
			if got := (*issues)[0]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestRepositoryEventFields: a renamed repository says its old name, a
// transferred one its old owner, whether a user or an organisation.
func TestRepositoryEventFields(t *testing.T) {
	const repo = `"repository":{"id":42,"name":"journeys","owner":{"login":"acme"}}`
	for _, tc := range []struct {
		name, payload string
		want          RepositoryEvent
	}{
		{"renamed", `{"action":"renamed",` + repo + `,"changes":{"repository":{"name":{"from":"cx-journeys"}}}}`,
			RepositoryEvent{Action: "renamed", RepoID: 42, Owner: "acme", Repo: "journeys", OldRepo: "cx-journeys"}},
		{"transferred from a user", `{"action":"transferred",` + repo + `,"changes":{"owner":{"from":{"user":{"login":"octocat"}}}}}`,
			RepositoryEvent{Action: "transferred", RepoID: 42, Owner: "acme", Repo: "journeys", OldOwner: "octocat"}},
		{"transferred from an organisation", `{"action":"transferred",` + repo + `,"changes":{"owner":{"from":{"organization":{"login":"acme-labs"}}}}}`,
			RepositoryEvent{Action: "transferred", RepoID: 42, Owner: "acme", Repo: "journeys", OldOwner: "acme-labs"}},
		{"archived", `{"action":"archived",` + repo + `}`,
			RepositoryEvent{Action: "archived", RepoID: 42, Owner: "acme", Repo: "journeys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _, repos := recorder()
			payload := []byte(tc.payload)
			req := httpRequest(EventRepository, payload, sign(secret, payload))
			req.Header.Set("X-GitHub-Delivery", "d-1")
			if code := serve(h, req); code != http.StatusAccepted || len(*repos) != 1 {
				t.Fatalf("answered %d with %d events", code, len(*repos))
			}
			tc.want.Delivery = "d-1"
			if got := (*repos)[0]; got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestRepositoryEventsWithoutAReceiverOrFailing: without OnRepository a
// verified `repository` delivery is acknowledged (204); when recording it
// fails it answers 503, and its redelivery is acted on.
func TestRepositoryEventsWithoutAReceiverOrFailing(t *testing.T) {
	payload := []byte(`{"action":"renamed","repository":{"id":1,"name":"b","owner":{"login":"o"}},"changes":{"repository":{"name":{"from":"a"}}}}`)
	h := handler()
	if code := serve(h, httpRequest(EventRepository, payload, sign(secret, payload))); code != http.StatusNoContent {
		t.Errorf("without OnRepository: %d, want 204", code)
	}
	if code := serve(h, httpRequest(EventRepository, payload, sign([]byte("guess"), payload))); code != http.StatusUnauthorized {
		t.Errorf("mis-signed, without OnRepository: %d, want 401 (verified before anything)", code)
	}
	calls := 0
	h.OnRepository = func(context.Context, RepositoryEvent) error {
		calls++
		if calls == 1 {
			return errors.New("API server unavailable")
		}
		return nil
	}
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusAccepted, http.StatusOK} {
		req := httpRequest(EventRepository, payload, sign(secret, payload))
		req.Header.Set("X-GitHub-Delivery", "repo-delivery")
		if code := serve(h, req); code != want {
			t.Errorf("delivery %d of one ID: %d, want %d", i+1, code, want)
		}
	}
	if calls != 2 {
		t.Errorf("OnRepository called %d times, want 2 (failed, redelivered; the replay not)", calls)
	}
}

// TestDeliveryWithoutIDIsKnownByItsPayload: without X-GitHub-Delivery
// the payload's digest names the delivery, so the same payload again is a
// replay and another payload is not.
func TestDeliveryWithoutIDIsKnownByItsPayload(t *testing.T) {
	h, issues, _ := recorder()
	opened, closed := []byte(`{"action":"opened","issue":{"number":1}}`), []byte(`{"action":"closed","issue":{"number":1}}`)
	for i, tc := range []struct {
		body []byte
		want int
	}{{opened, http.StatusAccepted}, {opened, http.StatusOK}, {closed, http.StatusAccepted}, {closed, http.StatusOK}} {
		req := httpRequest(EventIssues, tc.body, sign(secret, tc.body))
		req.Header.Del("X-GitHub-Delivery")
		if code := serve(h, req); code != tc.want {
			t.Errorf("delivery %d: %d, want %d", i+1, code, tc.want)
		}
	}
	if len(*issues) != 2 {
		t.Fatalf("%d events passed on, want 2", len(*issues))
	}
	a, b := (*issues)[0].Delivery, (*issues)[1].Delivery
	if !strings.HasPrefix(a, "sha256-") || len(a) != len("sha256-")+24 || a == b {
		t.Errorf("deliveries named %q and %q; want sha256- and 24 hex digits, each its own", a, b)
	}
}

// TestRememberedDeliveriesAreBounded: the replay memory holds the last
// rememberedDeliveries IDs; the oldest is forgotten first.
func TestRememberedDeliveriesAreBounded(t *testing.T) {
	h := handler()
	h.init()
	id := func(i int) string { return "delivery-" + strconv.Itoa(i) }
	for i := 0; i <= rememberedDeliveries; i++ {
		if !h.firstDelivery(id(i)) {
			t.Fatalf("delivery %d seen before", i)
		}
	}
	if len(h.deliveries) != rememberedDeliveries || len(h.order) != rememberedDeliveries {
		t.Fatalf("%d deliveries remembered (%d in order), want %d", len(h.deliveries), len(h.order), rememberedDeliveries)
	}
	if h.firstDelivery(id(1)) || h.firstDelivery(id(rememberedDeliveries)) {
		t.Error("a remembered delivery was taken as new")
	}
	if !h.firstDelivery(id(0)) {
		t.Error("the oldest delivery is still remembered past the bound")
	}
	h.forget(id(5))
	if !h.firstDelivery(id(5)) {
		t.Error("a forgotten delivery is refused as a replay")
	}
}

// TestBodySizes: a body of exactly MaxBody is read, whether it says its
// length or not and across the pieces it is read in; one byte more is
// refused (413); a body shorter than its Content-Length is unreadable.
func TestBodySizes(t *testing.T) {
	const maxBody = 150 << 10 // more than two 64 KiB pieces
	pad := func(n int) []byte {
		b := append([]byte(`{"zen":"`), bytes.Repeat([]byte("z"), n-len(`{"zen":"`)-2)...)
		return append(b, `"}`...)
	}
	for _, tc := range []struct {
		name   string
		size   int
		length int64 // -1: unknown, -2: its size
		want   int
	}{
		{"small, length given", 100, -2, http.StatusOK},
		{"small, length unknown", 100, -1, http.StatusOK},
		{"one piece exactly", 64 << 10, -2, http.StatusOK},
		{"one piece and a byte", 64<<10 + 1, -2, http.StatusOK},
		{"one piece and a byte, length unknown", 64<<10 + 1, -1, http.StatusOK},
		{"exactly the cap", maxBody, -2, http.StatusOK},
		{"exactly the cap, length unknown", maxBody, -1, http.StatusOK},
		{"a byte over the cap, length unknown", maxBody + 1, -1, http.StatusRequestEntityTooLarge},
		{"a byte over the cap, length given", maxBody + 1, -2, http.StatusRequestEntityTooLarge},
		{"cut short of a small length", 100, 200, http.StatusBadRequest},
		{"cut short of a large length", 100 << 10, 120 << 10, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := handler()
			h.MaxBody = maxBody
			body := pad(tc.size)
			length := tc.length
			if length == -2 {
				length = int64(len(body))
			}
			if code := serve(h, signedRequest(EventPing, body, length)); code != tc.want {
				t.Errorf("a %d-byte body (Content-Length %d): %d, want %d", len(body), length, code, tc.want)
			}
		})
	}
}

// TestInFlightBudgetFitsTheLargestDelivery: an in-flight byte budget set
// below MaxBody is raised to it, or a delivery of the largest size would
// wait for a slot forever.
func TestInFlightBudgetFitsTheLargestDelivery(t *testing.T) {
	body := append([]byte(`{"zen":"`), bytes.Repeat([]byte("z"), 4000)...)
	body = append(body, `"}`...)
	for _, length := range []int64{int64(len(body)), -1} {
		h := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, MaxBody: 8 << 10, InFlightBytes: 16, SlotWait: 50 * time.Millisecond}
		if code := serve(h, signedRequest(EventPing, body, length)); code != http.StatusOK {
			t.Errorf("Content-Length %d with a budget of 16 bytes: %d, want 200", length, code)
		}
	}
}

// TestEmptySecretsVerifyNothing: empty secrets are skipped; with none
// left, nothing is accepted (503), not even a body signed with an empty key.
func TestEmptySecretsVerifyNothing(t *testing.T) {
	body := fixture(t, "issues.opened.json")
	for _, tc := range []struct {
		name    string
		secrets func() [][]byte
		key     []byte
		want    int
	}{
		{"no Secrets function", nil, nil, http.StatusServiceUnavailable},
		{"no secrets", func() [][]byte { return nil }, nil, http.StatusServiceUnavailable},
		{"only empty secrets", func() [][]byte { return [][]byte{nil, {}} }, nil, http.StatusServiceUnavailable},
		{"an empty current secret, a previous one", func() [][]byte { return [][]byte{{}, secret} }, secret, http.StatusAccepted},
		{"an empty current secret, signed with empty", func() [][]byte { return [][]byte{{}, secret} }, []byte{}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{Secrets: tc.secrets}
			if code := serve(h, httpRequest(EventIssues, body, sign(tc.key, body))); code != tc.want {
				t.Errorf("answered %d, want %d", code, tc.want)
			}
		})
	}
}

// TestRefusalHeaders: a 405 says which method is allowed; a 503 for want
// of a slot says when to retry.
func TestRefusalHeaders(t *testing.T) {
	h := handler()
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodOptions} {
		req := httpRequest(EventIssues, nil, "")
		req.Method = method
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: %d, Allow %q; want 405, POST", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
	busy := &Handler{Secrets: func() [][]byte { return [][]byte{secret} }, Concurrency: 1, SlotWait: 20 * time.Millisecond}
	busy.init()
	busy.slots <- struct{}{} // the one slot, held
	body := fixture(t, "issues.opened.json")
	rec := httptest.NewRecorder()
	busy.ServeHTTP(rec, httpRequest(EventIssues, body, sign(secret, body)))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "10" {
		t.Errorf("no slot: %d, Retry-After %q; want 503, 10", rec.Code, rec.Header().Get("Retry-After"))
	}
	<-busy.slots
	rec = httptest.NewRecorder()
	busy.ServeHTTP(rec, httpRequest(EventIssues, body, sign(secret, body)))
	if rec.Code != http.StatusAccepted {
		t.Errorf("slot free again: %d, want 202", rec.Code)
	}
}

// TestSlowBodyIsCutOff: a sender that holds a slot and stops sending its
// body is answered 408 after BodyReadTimeout, and the slot is free again.
func TestSlowBodyIsCutOff(t *testing.T) {
	h := handler()
	h.Concurrency, h.BodyReadTimeout = 1, 200*time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fixture(t, "issues.opened.json")
	start := time.Now()
	_, err = io.WriteString(conn, "POST /github/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"X-GitHub-Event: issues\r\nX-Hub-Signature-256: "+sign(secret, body)+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body[:100]))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the slow sender: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow sender answered %d, want 408", resp.StatusCode)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("answered after %v, want about the 200ms BodyReadTimeout", d)
	}
	if got := post(t, srv.URL, EventIssues, nextDelivery(), bytes.NewReader(body), int64(len(body)), sign(secret, body)); got != http.StatusAccepted {
		t.Errorf("after the slow sender: %d, want 202 (its slot released)", got)
	}
}

// TestServerTimeoutsFitGitHub: the server's timeouts are the documented
// ones, and a delivery that waits its longest for a slot and then for its
// body is still read within ServerReadTimeout and answered before GitHub's
// 10 s are up.
func TestServerTimeoutsFitGitHub(t *testing.T) {
	h := handler()
	s := NewServer("127.0.0.1:0", h)
	if s.Addr != "127.0.0.1:0" || s.Handler != h || s.ReadHeaderTimeout != ServerReadHeaderTimeout || s.ReadTimeout != ServerReadTimeout ||
		s.WriteTimeout != ServerWriteTimeout || s.IdleTimeout != ServerIdleTimeout || s.MaxHeaderBytes != ServerMaxHeaderBytes {
		t.Errorf("server %+v", s)
	}
	if ServerReadHeaderTimeout+DefaultSlotWait+DefaultBodyReadTimeout > ServerReadTimeout {
		t.Error("the read timeout cuts a delivery that waited for a slot and its body")
	}
	if DefaultSlotWait >= 10*time.Second || ServerWriteTimeout < ServerReadTimeout {
		t.Error("a delivery without a slot is not answered before GitHub gives up, or the answer is cut")
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
