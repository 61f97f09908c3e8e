package localgithub

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func remainingOf(t *testing.T, r response) int {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("X-RateLimit-Remaining"))
	if err != nil {
		t.Fatalf("X-RateLimit-Remaining %q: %v", r.Header.Get("X-RateLimit-Remaining"), err)
	}
	return n
}

func TestConditionalGetAnswers304WithoutSpendingBudget(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	created := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "Checkout is slow"})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}

	first := call(t, s, "GET", "/repos/acme/shop/issues/1", nil)
	etag := first.Header.Get("ETag")
	if first.Status != http.StatusOK || etag == "" {
		t.Fatalf("GET: %d, ETag %q", first.Status, etag)
	}
	again := call(t, s, "GET", "/repos/acme/shop/issues/1", nil)
	if again.Header.Get("ETag") != etag {
		t.Errorf("ETag of unchanged issue changed: %q then %q", etag, again.Header.Get("ETag"))
	}
	before := remainingOf(t, again)

	notModified := call(t, s, "GET", "/repos/acme/shop/issues/1", nil, "If-None-Match", etag)
	if notModified.Status != http.StatusNotModified {
		t.Fatalf("conditional GET: %d, want 304", notModified.Status)
	}
	if len(notModified.Body) != 0 {
		t.Errorf("304 has a body: %q", notModified.Body)
	}
	if got := remainingOf(t, notModified); got != before {
		t.Errorf("304 moved X-RateLimit-Remaining from %d to %d", before, got)
	}
	if got := s.RateLimitRemaining(testToken); got != before {
		t.Errorf("RateLimitRemaining after 304 = %d, want %d", got, before)
	}

	// A change makes the old ETag stale: full answer, counted.
	edited := call(t, s, "PATCH", "/repos/acme/shop/issues/1", map[string]any{"body": "p95 is 4s"})
	if edited.Status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", edited.Status, edited.Body)
	}
	stale := call(t, s, "GET", "/repos/acme/shop/issues/1", nil, "If-None-Match", etag)
	if stale.Status != http.StatusOK || stale.Header.Get("ETag") == etag {
		t.Errorf("GET with stale ETag: %d, ETag %q", stale.Status, stale.Header.Get("ETag"))
	}
	if got := remainingOf(t, stale); got != before-2 {
		t.Errorf("remaining %d after PATCH and GET, want %d", got, before-2)
	}

	// Lists are conditional too, and the log marks conditional requests.
	list := call(t, s, "GET", "/repos/acme/shop/issues", nil)
	if call(t, s, "GET", "/repos/acme/shop/issues", nil, "If-None-Match", list.Header.Get("ETag")).Status != http.StatusNotModified {
		t.Error("conditional list GET not answered 304")
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if !last.Conditional || last.Status != http.StatusNotModified || last.Path != "/repos/acme/shop/issues" {
		t.Errorf("last logged request %+v", last)
	}
	for _, r := range reqs {
		if strings.Contains(r.Path, testToken) {
			t.Errorf("request log holds the token: %+v", r)
		}
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Options{RateLimit: 3, RateWindow: time.Hour, Now: clock.Now})
	s.AddRepo("acme", "shop")
	for i := 0; i < 3; i++ {
		if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	limited := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "over budget"})
	if limited.Status != http.StatusForbidden {
		t.Fatalf("over budget: %d %s", limited.Status, limited.Body)
	}
	if got := limited.Header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining %q", got)
	}
	reset := clock.Now().Add(time.Hour).Unix()
	if got := limited.Header.Get("X-RateLimit-Reset"); got != strconv.FormatInt(reset, 10) {
		t.Errorf("X-RateLimit-Reset %q, want %d", got, reset)
	}
	body := limited.JSON(t).(map[string]any)
	if body["message"] != "API rate limit exceeded for user ID 1." ||
		body["documentation_url"] != "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting" {
		t.Errorf("body %s", limited.Body)
	}
	if n := len(s.Issues("acme", "shop")); n != 0 {
		t.Errorf("rate-limited create committed %d issues", n)
	}

	// go-github recognises it.
	_, _, err := newClient(t, s, testToken).Issues.Get(context.Background(), "acme", "shop", 1)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Errorf("go-github error %T %v, want *github.RateLimitError", err, err)
	}

	// /rate_limit is not counted and reports the spent budget.
	rl := call(t, s, "GET", "/rate_limit", nil)
	if rl.Status != http.StatusOK {
		t.Fatalf("/rate_limit: %d", rl.Status)
	}
	core := rl.JSON(t).(map[string]any)["resources"].(map[string]any)["core"].(map[string]any)
	if core["remaining"] != 0.0 || core["limit"] != 3.0 {
		t.Errorf("/rate_limit core %v", core)
	}

	clock.Step(time.Hour)
	if r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "new window"}); r.Status != http.StatusCreated {
		t.Fatalf("after reset: %d %s", r.Status, r.Body)
	} else if got := remainingOf(t, r); got != 2 {
		t.Errorf("remaining after reset %d, want 2", got)
	}
}

func TestPrimaryLimitFault(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.Inject(Fault{Kind: PrimaryLimit, Method: "POST", Path: "/repos/acme/shop/issues"})
	r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"})
	if r.Status != http.StatusForbidden || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("fault: %d remaining %q", r.Status, r.Header.Get("X-RateLimit-Remaining"))
	}
	// The budget stays spent for every request until the reset.
	if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != http.StatusForbidden {
		t.Errorf("after PrimaryLimit: %d, want 403", r.Status)
	}
	if got := s.RateLimitRemaining(testToken); got != 0 {
		t.Errorf("RateLimitRemaining %d", got)
	}
	if n := len(s.Issues("acme", "shop")); n != 0 {
		t.Errorf("committed %d issues", n)
	}
}

func TestSecondaryLimitFault(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	client := newClient(t, s, testToken)
	ctx := context.Background()

	s.Inject(Fault{Kind: SecondaryLimit, Method: "POST", Path: "/repos/*/*/issues", RetryAfter: 30 * time.Second})
	_, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("x")})
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("error %T %v, want *github.AbuseRateLimitError", err, err)
	}
	if abuse.RetryAfter == nil || *abuse.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter %v", abuse.RetryAfter)
	}
	if n := len(s.Issues("acme", "shop")); n != 0 {
		t.Errorf("secondary limit committed %d issues", n)
	}

	s.Inject(Fault{Kind: SecondaryLimit, Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond, Times: 2})
	for i := 0; i < 2; i++ {
		r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "2" {
			t.Fatalf("429 fault %d: %d Retry-After %q", i, r.Status, r.Header.Get("Retry-After"))
		}
		if msg, _ := r.JSON(t).(map[string]any)["message"].(string); !strings.Contains(msg, "secondary rate limit") {
			t.Errorf("message %q", msg)
		}
	}
	if r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"}); r.Status != http.StatusCreated {
		t.Errorf("after the fault's two uses: %d", r.Status)
	}
}
