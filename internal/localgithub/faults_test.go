package localgithub

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestDropResponseAfterCommit(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	client := newClient(t, s, testToken)
	ctx := context.Background()

	s.Inject(Fault{Kind: DropResponseAfterCommit, Method: "POST", Path: "/repos/acme/shop/issues"})
	_, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("Checkout is slow")})
	if err == nil {
		t.Fatal("create answered despite the dropped response")
	}
	var ghErr *github.ErrorResponse
	if errors.As(err, &ghErr) {
		t.Fatalf("got a GitHub answer %v, want a transport error", err)
	}
	issues := s.Issues("acme", "shop")
	if len(issues) != 1 || issues[0].Title != "Checkout is slow" {
		t.Fatalf("after dropped create: %+v, want the issue committed", issues)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Status != 0 || last.Fault != DropResponseAfterCommit {
		t.Errorf("logged %+v, want status 0 and the fault", last)
	}

	// The fault applied once: a retry goes through and is a second issue,
	// which is what a client without idempotency checks would do.
	issue, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("Checkout is slow")})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if issue.GetNumber() != 2 || len(s.Issues("acme", "shop")) != 2 {
		t.Errorf("retry created #%d, %d issues", issue.GetNumber(), len(s.Issues("acme", "shop")))
	}
}

func TestServerErrorFault(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.Inject(Fault{Kind: ServerError, Status: http.StatusServiceUnavailable, Method: "post", Times: 2})
	for i := 0; i < 2; i++ {
		if r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"}); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	if r := call(t, s, "GET", "/repos/acme/shop/issues", nil); r.Status != http.StatusOK {
		t.Errorf("GET matched a POST fault: %d", r.Status)
	}
	if n := len(s.Issues("acme", "shop")); n != 0 {
		t.Errorf("server errors committed %d issues", n)
	}
	if r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"}); r.Status != http.StatusCreated {
		t.Errorf("third attempt: %d", r.Status)
	}

	s.Inject(Fault{Kind: ServerError, Times: -1})
	for i := 0; i < 3; i++ {
		if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != http.StatusBadGateway {
			t.Fatalf("unlimited fault, request %d: %d", i, r.Status)
		}
	}
	s.ClearFaults()
	if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != http.StatusOK {
		t.Errorf("after ClearFaults: %d", r.Status)
	}
}

func TestLatencyFault(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	client := newClient(t, s, testToken)

	s.Inject(Fault{Kind: Latency, Delay: 300 * time.Millisecond, Path: "/repos/acme/shop"})
	start := time.Now()
	if _, _, err := client.Repositories.Get(context.Background(), "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("answered after %v, want at least the delay", elapsed)
	}

	s.Inject(Fault{Kind: Latency, Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := client.Repositories.Get(ctx, "acme", "shop"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the client's deadline", err)
	}
}

// TestEveryNthFault: a periodic fault applies to every Nth matching
// request only, as in a fault mix (every 6th write limited, …).
func TestEveryNthFault(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.Inject(Fault{Kind: ServerError, Method: "POST", Every: 3, Times: -1})
	var statuses []int
	for range 7 {
		statuses = append(statuses, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"}).Status)
	}
	want := []int{201, 201, 502, 201, 201, 502, 201}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	if n := len(s.Issues("acme", "shop")); n != 5 {
		t.Errorf("%d issues, want 5 (the 502s apply nothing)", n)
	}
}

// TestRequestsWhileLimitedAreCounted: the server counts what a caller sends
// before the Retry-After it was given has passed.
func TestRequestsWhileLimitedAreCounted(t *testing.T) {
	clk := newFakeClock()
	s := startServer(t, Options{Now: clk.Now})
	s.AddRepo("acme", "shop")
	s.Inject(Fault{Kind: SecondaryLimit, Method: "POST", RetryAfter: 2 * time.Second})
	if r := call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "x"}); r.Status != http.StatusForbidden {
		t.Fatalf("limited: %d", r.Status)
	}
	if n := s.RequestsWhileLimited(); n != 0 {
		t.Fatalf("%d before anything was sent too early", n)
	}
	clk.Step(time.Second)
	call(t, s, "GET", "/repos/acme/shop/issues", nil)
	if n := s.RequestsWhileLimited(); n != 1 {
		t.Fatalf("a request 1s into a 2s Retry-After: counted %d, want 1", n)
	}
	clk.Step(time.Second)
	call(t, s, "GET", "/repos/acme/shop/issues", nil)
	if n := s.RequestsWhileLimited(); n != 1 {
		t.Errorf("a request once the wait is over counted: %d, want 1", n)
	}
}
