package localgithub

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuthorizationHeaderForms(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	for _, tc := range []struct {
		header string
		status int
		msg    string
	}{
		{"token " + testToken, 200, ""},
		{"Bearer " + testToken, 200, ""},
		{"TOKEN " + testToken, 200, ""},
		{"token    " + testToken + "  ", 200, ""},
		{"", 401, "Requires authentication"},
		{"Basic " + testToken, 401, "Bad credentials"},
		{testToken, 401, "Bad credentials"},
		{"token", 401, "Bad credentials"},
		{"token " + testToken + "x", 401, "Bad credentials"},
		{"token " + strings.ToUpper(testToken), 401, "Bad credentials"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			before := s.RateLimitRemaining(testToken)
			r := call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", tc.header)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			spent := before - s.RateLimitRemaining(testToken)
			if tc.status == 401 {
				if m := decode[apiErrorBody](t, r).Message; m != tc.msg {
					t.Errorf("message %q, want %q", m, tc.msg)
				}
				if spent != 0 || r.Header.Get("X-RateLimit-Limit") != "60" {
					t.Errorf("a failed request spent %d of the token's budget; limit header %q, want the address's 60", spent, r.Header.Get("X-RateLimit-Limit"))
				}
			} else if spent != 1 {
				t.Errorf("spent %d of the token's budget, want 1", spent)
			}
		})
	}
}

func TestReadOnlyToken(t *testing.T) {
	const writer = "ghp_writertoken00000000000000000000000"
	s := startServer(t, Options{})
	s.AddToken(writer)
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	s.SetTokenReadOnly(testToken, true)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/repos/acme/shop/issues/1", nil, 200},
		{"HEAD", "/repos/acme/shop/issues/1", nil, 200},
		{"GET", "/repos/acme/shop/labels", nil, 200},
		{"POST", "/repos/acme/shop/issues", map[string]any{"title": "t2"}, 403},
		{"PATCH", "/repos/acme/shop/issues/1", map[string]any{"state": "closed"}, 403},
		{"PUT", "/repos/acme/shop/issues/1/lock", nil, 403},
		{"DELETE", "/repos/acme/shop/issues/1/labels", nil, 403},
		{"POST", "/repos/acme/shop/issues/1/comments", map[string]any{"body": "x"}, 403},
		{"POST", "/repos/acme/nope/issues", map[string]any{"title": "x"}, 403}, // refused before the repository is looked up
	} {
		r := call(t, s, tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.Status, tc.status)
		}
		if tc.status == 403 && decode[apiErrorBody](t, r).Message != "Resource not accessible by personal access token" {
			t.Errorf("%s %s: %s", tc.method, tc.path, r.Body)
		}
	}
	if is := s.Issues("acme", "shop"); len(is) != 1 || is[0].State != "open" || is[0].Locked || len(is[0].Comments) != 0 {
		t.Errorf("a read-only token changed the issues: %+v", is)
	}
	// Another token still writes; the token writes again once allowed.
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t2"}, "Authorization", "token "+writer), 201, "another token")
	s.SetTokenReadOnly(testToken, false)
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t3"}), 201, "writable again")
}

func TestRequestLog(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Options{Now: clock.Now})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	etag := call(t, s, "GET", "/repos/acme/shop/issues/1", nil).Header.Get("ETag")
	clock.Step(time.Minute)
	call(t, s, "GET", "/repos/acme/shop/issues/1?access_token=secret&state=all", nil)
	call(t, s, "GET", "/repos/acme/shop/issues?labels=a%2Cb&state=all", nil)
	call(t, s, "GET", "/repos/acme/shop/issues/1", nil, "If-None-Match", etag)
	call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", "token wrong")
	s.Inject(Fault{Kind: ServerError, Status: 503, Path: "/repos/acme/shop/labels"})
	call(t, s, "GET", "/repos/acme/shop/labels", nil)

	want := []Request{
		{Method: "POST", Path: "/repos/acme/shop/issues", Status: 201},
		{Method: "GET", Path: "/repos/acme/shop/issues/1", Status: 200},
		{Method: "GET", Path: "/repos/acme/shop/issues/1?access_token=REDACTED&state=all", Status: 200},
		{Method: "GET", Path: "/repos/acme/shop/issues?labels=a%2Cb&state=all", Status: 200},
		{Method: "GET", Path: "/repos/acme/shop/issues/1", Status: 304, Conditional: true},
		{Method: "GET", Path: "/repos/acme/shop", Status: 401},
		{Method: "GET", Path: "/repos/acme/shop/labels", Status: 503, Fault: ServerError},
	}
	got := s.Requests()
	if len(got) != len(want) {
		t.Fatalf("%d requests logged: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		w.Time = g.Time
		if g != w {
			t.Errorf("request %d = %+v, want %+v", i, g, w)
		}
		if wantTime := newFakeClock().Now().Add(map[bool]time.Duration{true: time.Minute}[i >= 2]); !g.Time.Equal(wantTime) {
			t.Errorf("request %d at %v, want %v", i, g.Time, wantTime)
		}
		if strings.Contains(g.Path, "secret") {
			t.Errorf("request %d logged the access token: %s", i, g.Path)
		}
	}
	// Requests hands out a copy.
	got[0].Method = "changed"
	if s.Requests()[0].Method != "POST" {
		t.Error("Requests returned the server's own log")
	}
}

func TestRequestLogKeepsTheNewest(t *testing.T) {
	s := newServer(t, Options{})
	h := s.Handler()
	const extra = 3
	for i := range maxRequestLog + extra {
		req := httptest.NewRequest("GET", fmt.Sprintf("/rate_limit?n=%d", i), nil)
		req.Header.Set("Authorization", "token "+testToken)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	got := s.Requests()
	if len(got) != maxRequestLog {
		t.Fatalf("%d requests kept, want %d", len(got), maxRequestLog)
	}
	if first, last := got[0].Path, got[len(got)-1].Path; first != fmt.Sprintf("/rate_limit?n=%d", extra) || last != fmt.Sprintf("/rate_limit?n=%d", maxRequestLog+extra-1) {
		t.Errorf("kept %s to %s, want the newest %d", first, last, maxRequestLog)
	}
}

func TestEveryAnswerCarriesGitHubHeaders(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	requestID := regexp.MustCompile(`^[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{7}:[0-9A-F]{7}:[0-9A-F]{8}$`)
	seen := map[string]bool{}
	for _, tc := range []struct {
		method, path string
		header       []string
	}{
		{"GET", "/repos/acme/shop", nil},
		{"GET", "/nope", nil},
		{"POST", "/repos/acme/shop/issues", nil},
		{"GET", "/repos/acme/shop", []string{"Authorization", ""}},
		{"GET", "/rate_limit", nil},
		{"GET", "/orgs/acme/projectsV2", nil},
	} {
		for range 3 {
			r := call(t, s, tc.method, tc.path, nil, tc.header...)
			id := r.Header.Get("X-GitHub-Request-Id")
			if !requestID.MatchString(id) || seen[id] {
				t.Errorf("%s %s: X-GitHub-Request-Id %q (seen before: %v)", tc.method, tc.path, id, seen[id])
			}
			seen[id] = true
			if r.Header.Get("X-GitHub-Media-Type") != "github.v3; format=json" || r.Header.Get("X-RateLimit-Limit") == "" ||
				!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: headers %v", tc.method, tc.path, r.Header)
			}
		}
	}
}

func TestRateLimitEndpoint(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Options{Now: clock.Now, RateLimit: 10, RateWindow: time.Minute})
	s.AddRepo("acme", "shop")
	for range 3 {
		call(t, s, "GET", "/repos/acme/shop", nil)
	}
	type rate struct {
		Limit     int    `json:"limit"`
		Used      int    `json:"used"`
		Remaining int    `json:"remaining"`
		Reset     int64  `json:"reset"`
		Resource  string `json:"resource"`
	}
	for range 2 {
		r := call(t, s, "GET", "/rate_limit", nil)
		got := decode[struct {
			Rate      rate            `json:"rate"`
			Resources map[string]rate `json:"resources"`
		}](t, r)
		if got.Rate.Limit != 10 || got.Rate.Used != 3 || got.Rate.Remaining != 7 || got.Resources["core"] != got.Rate ||
			got.Rate.Reset != newFakeClock().Now().Add(time.Minute).Unix() {
			t.Errorf("rate %+v, core %+v; want 3 of 10 used, /rate_limit itself not counted", got.Rate, got.Resources["core"])
		}
		if got.Resources["search"].Limit != 30 || got.Resources["code_search"].Limit != 10 || got.Resources["graphql"].Limit != 5000 {
			t.Errorf("resources %+v", got.Resources)
		}
		if remainingOf(t, r) != 7 {
			t.Errorf("X-RateLimit-Remaining %d, want 7", remainingOf(t, r))
		}
	}
	if got := s.RateLimitRemaining(testToken); got != 7 {
		t.Errorf("RateLimitRemaining %d", got)
	}
	// The budget comes back when the window is over.
	for range 7 {
		call(t, s, "GET", "/repos/acme/shop", nil)
	}
	if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != 403 || remainingOf(t, r) != 0 {
		t.Errorf("past the budget: %d, remaining %d", r.Status, remainingOf(t, r))
	}
	if r := call(t, s, "GET", "/rate_limit", nil); r.Status != 200 {
		t.Errorf("/rate_limit once the budget is spent: %d, want it answered", r.Status)
	}
	clock.Step(time.Minute)
	if r := call(t, s, "GET", "/repos/acme/shop", nil); r.Status != 200 || remainingOf(t, r) != 9 {
		t.Errorf("in the next window: %d, remaining %d", r.Status, remainingOf(t, r))
	}
}

func TestFaultMatching(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   Fault
		method  string
		path    string
		applies bool
	}{
		{"any request", Fault{}, "GET", "/repos/acme/shop", true},
		{"method in other case", Fault{Method: "post"}, "POST", "/repos/acme/shop/issues", true},
		{"another method", Fault{Method: "POST"}, "GET", "/repos/acme/shop/issues", false},
		{"path prefix", Fault{Path: "/repos/acme/shop/issues"}, "GET", "/repos/acme/shop/issues/1/comments", true},
		{"path prefix of another repository", Fault{Path: "/repos/acme/shop/"}, "GET", "/repos/acme/shopping/issues", false},
		{"pattern", Fault{Path: "/repos/*/*/issues"}, "GET", "/repos/acme/shop/issues", true},
		{"pattern does not reach deeper", Fault{Path: "/repos/*/*/issues"}, "GET", "/repos/acme/shop/issues/1", false},
		{"pattern of one segment", Fault{Path: "/repos/acme/*"}, "GET", "/repos/acme/shop/issues", false},
		{"the query is no part of the path", Fault{Path: "/repos/acme/shop/issues?state=all"}, "GET", "/repos/acme/shop/issues?state=all", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{})
			s.AddRepo("acme", "shop")
			s.AddRepo("acme", "shopping")
			expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
			f := tc.fault
			f.Kind, f.Status = ServerError, 418
			s.Inject(f)
			var body any
			if tc.method == "POST" {
				body = map[string]any{"title": "t"}
			}
			r := call(t, s, tc.method, tc.path, body)
			if applied := r.Status == 418; applied != tc.applies {
				t.Fatalf("status %d; want the fault applied: %v", r.Status, tc.applies)
			}
			if !tc.applies {
				return
			}
			// Once only, and logged with its kind.
			if r := call(t, s, tc.method, tc.path, body); r.Status == 418 {
				t.Error("a fault for once applied twice")
			}
			reqs := s.Requests()
			if reqs[len(reqs)-2].Fault != ServerError || reqs[len(reqs)-1].Fault != 0 {
				t.Errorf("logged faults %v then %v", reqs[len(reqs)-2].Fault, reqs[len(reqs)-1].Fault)
			}
		})
	}
}

func TestFaultsApplyInOrderAndCount(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.Inject(Fault{Kind: ServerError, Status: 500, Path: "/repos/acme/shop", Times: 2})
	s.Inject(Fault{Kind: ServerError, Status: 503, Path: "/repos/acme/shop"})
	s.Inject(Fault{Kind: ServerError, Path: "/repos/acme/shop", Every: 2, Times: 1}) // default 502
	var statuses []int
	for range 7 {
		statuses = append(statuses, call(t, s, "GET", "/repos/acme/shop", nil).Status)
	}
	// The first fault twice, then the second once; the periodic one saw
	// only the requests the others left it (the fourth is its first
	// match, the fifth its second).
	if want := []int{500, 500, 503, 200, 502, 200, 200}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

func TestFaultKindNames(t *testing.T) {
	for kind, want := range map[FaultKind]string{
		0: "None", DropResponseAfterCommit: "DropResponseAfterCommit", ServerError: "ServerError", Latency: "Latency",
		SecondaryLimit: "SecondaryLimit", PrimaryLimit: "PrimaryLimit", PrimaryLimit + 1: "FaultKind(?)", -1: "FaultKind(?)",
	} {
		if got := kind.String(); got != want {
			t.Errorf("FaultKind(%d) = %q, want %q", int(kind), got, want)
		}
	}
}

func TestDirectIssueMethodsRefuse(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.AddRepo("acme", "site")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	for _, tc := range []struct {
		name     string
		do       func() error
		notFound bool
	}{
		{"close with an unknown reason", func() error { return s.CloseIssue("acme", "shop", 1, "duplicate") }, false},
		{"close an unknown issue", func() error { return s.CloseIssue("acme", "shop", 2, "") }, true},
		{"close in an unknown repository", func() error { return s.CloseIssue("acme", "nope", 1, "") }, true},
		{"reopen an unknown issue", func() error { return s.ReopenIssue("acme", "shop", 2) }, true},
		{"delete an unknown issue", func() error { return s.DeleteIssue("acme", "shop", 2) }, true},
		{"comment on an unknown issue", func() error { return s.Comment("acme", "shop", 2, "x") }, true},
		{"transfer to its own repository", func() error { return s.TransferIssue("acme", "shop", 1, "acme", "shop") }, false},
		{"transfer to an unknown repository", func() error { return s.TransferIssue("acme", "shop", 1, "acme", "nope") }, true},
		{"transfer an unknown issue", func() error { return s.TransferIssue("acme", "shop", 5, "acme", "site") }, true},
		{"rename onto another repository", func() error { return s.RenameRepo("acme", "shop", "acme", "site") }, false},
		{"history of an unknown repository", func() error {
			_, err := s.AddHistory("acme", "nope", 1, nil, func(int) string { return "" })
			return err
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || errors.Is(err, ErrNotFound) != tc.notFound {
				t.Errorf("error %v; want ErrNotFound: %v", err, tc.notFound)
			}
		})
	}
	if is := s.Issues("acme", "shop"); len(is) != 1 || is[0].State != "open" {
		t.Errorf("refusals changed the issue: %+v", is)
	}
	if got := s.Issues("acme", "nope"); got != nil {
		t.Errorf("issues of an unknown repository %v", got)
	}
	// Closing a closed issue and reopening an open one change nothing.
	if err := s.CloseIssue("acme", "shop", 1, "not_planned"); err != nil {
		t.Fatal(err)
	}
	first := s.Issues("acme", "shop")[0]
	if err := s.CloseIssue("acme", "shop", 1, "completed"); err != nil {
		t.Fatal(err)
	}
	if again := s.Issues("acme", "shop")[0]; again.StateReason != "not_planned" || !again.ClosedAt.Equal(*first.ClosedAt) {
		t.Errorf("closing again changed %+v to %+v", first, again)
	}
	if err := s.ReopenIssue("acme", "shop", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenIssue("acme", "shop", 1); err != nil {
		t.Fatal(err)
	}
	if is := s.Issues("acme", "shop")[0]; is.State != "open" || is.StateReason != "reopened" || is.ClosedAt != nil {
		t.Errorf("reopened %+v", is)
	}
}

func TestTransferKeepsLabelsTheTargetHas(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.AddRepo("acme", "site")
	expectStatus(t, call(t, s, "POST", "/repos/acme/site/labels", map[string]any{"name": "CX"}), 201, "label in the target")
	expectStatus(t, call(t, s, "POST", "/repos/acme/site/issues", map[string]any{"title": "already there"}), 201, "target's own issue")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "moving", "labels": []string{"cx", "only-here", "bug"}}), 201, "create")
	if err := s.TransferIssue("acme", "shop", 1, "acme", "site"); err != nil {
		t.Fatal(err)
	}
	moved := s.Issues("acme", "site")
	if len(moved) != 2 || moved[1].Number != 2 || moved[1].Title != "moving" || !slices.Equal(moved[1].Labels, []string{"CX", "bug"}) {
		t.Errorf("site's issues %+v; want #2 with the labels site has, by its names", moved)
	}
	if moved[1].ID == 0 || moved[1].ID == moved[0].ID {
		t.Errorf("moved issue id %d", moved[1].ID)
	}
	// Every endpoint under the old number points at the new place.
	r := call(t, s, "GET", "/repos/acme/shop/issues/1/comments?per_page=5", nil)
	if r.Status != 301 || r.Header.Get("Location") != s.URL()+"repos/acme/site/issues/2/comments" {
		t.Errorf("comments of the moved issue: %d to %q", r.Status, r.Header.Get("Location"))
	}
	// A second transfer needs the issue's new place.
	if err := s.TransferIssue("acme", "shop", 1, "acme", "site"); !errors.Is(err, ErrNotFound) {
		t.Errorf("transferring from the old place again: %v", err)
	}
}

func TestAddHistory(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Options{Now: clock.Now})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "open one"}), 201, "create")
	first, err := s.AddHistory("acme", "shop", 3, []string{"cx", "Bug"}, func(i int) string { return fmt.Sprintf("key-%d", i) })
	if err != nil || first != 2 {
		t.Fatalf("AddHistory = %d, %v; want numbering to go on at 2", first, err)
	}
	got := s.Issues("acme", "shop")
	if len(got) != 4 {
		t.Fatalf("%d issues", len(got))
	}
	for i, is := range got[1:] {
		if is.Number != 2+i || is.Title != fmt.Sprintf("Earlier work %d", i+1) || is.Body != fmt.Sprintf("key-%d", i) || is.State != "closed" ||
			is.StateReason != "completed" || !slices.Equal(is.Labels, []string{"cx", "bug"}) || is.ClosedAt == nil || !is.ClosedAt.Before(clock.Now()) ||
			!is.CreatedAt.Before(*is.ClosedAt) {
			t.Errorf("history issue %d: %+v", i, is)
		}
		if i > 0 && !got[i].CreatedAt.Before(is.CreatedAt) {
			t.Errorf("history issue %d is not newer than the one before", i)
		}
	}
	// The API lists them as closed, oldest last by default.
	r := call(t, s, "GET", "/repos/acme/shop/issues?state=closed&labels=cx", nil)
	var numbers []int
	for _, is := range decode[[]idOnly](t, r) {
		numbers = append(numbers, is.Number)
	}
	if !slices.Equal(numbers, []int{4, 3, 2}) {
		t.Errorf("closed issues %v", numbers)
	}
	if next := decode[idOnly](t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "after"})); next.Number != 5 {
		t.Errorf("the next issue is #%d, want 5", next.Number)
	}
}

func TestBaseURLOption(t *testing.T) {
	s, err := New(Options{BaseURL: "https://github.example.com/api/v3"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.URL() != "https://github.example.com/api/v3/" {
		t.Errorf("URL() before Start = %q", s.URL())
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if s.URL() != "https://github.example.com/api/v3/" {
		t.Errorf("Start replaced the configured URL with %q", s.URL())
	}
	s.AddToken(testToken)
	s.AddRepo("acme", "shop")
	// The handler is reached directly; the URLs it hands out are the configured ones.
	req := httptest.NewRequest("POST", "/repos/acme/shop/issues", strings.NewReader(`{"title":"t"}`))
	req.Header.Set("Authorization", "token "+testToken)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 201 || rec.Header().Get("Location") != "https://github.example.com/api/v3/repos/acme/shop/issues/1" ||
		!strings.Contains(rec.Body.String(), `"html_url":"https://github.example.com/api/v3/acme/shop/issues/1"`) {
		t.Errorf("%d Location %q body %.200s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestStartOnABusyAddress(t *testing.T) {
	s := startServer(t, Options{})
	other, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "http://"), "/")
	if err := other.Start(addr); err == nil || !strings.HasPrefix(err.Error(), "localgithub: ") {
		t.Errorf("Start on %s, in use: %v", addr, err)
	}
	if other.URL() != "" {
		t.Errorf("URL() after a failed Start = %q", other.URL())
	}
	if err := other.Close(); err != nil {
		t.Errorf("Close of a server never started: %v", err)
	}
}

func TestAuthenticatedUser(t *testing.T) {
	s := startServer(t, Options{})
	u := decode[struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
		URL   string `json:"url"`
	}](t, call(t, s, "GET", "/user", nil))
	if u.Login != "octocat" || u.ID != 1 || u.Type != "User" || u.URL != s.URL()+"users/octocat" {
		t.Errorf("GET /user = %+v", u)
	}
	expectError(t, call(t, s, "GET", "/app", nil), 401, "", "", "JSON web token")
	expectError(t, call(t, s, "POST", "/user", nil), 404, "", "", "Not Found")
}

func TestRepositoryAnswers(t *testing.T) {
	s := startServer(t, Options{})
	id := s.AddRepo("acme", "shop")
	if again := s.AddRepo("acme", "shop"); again != id {
		t.Errorf("adding acme/shop again gave id %d, want %d", again, id)
	}
	if other := s.AddRepo("acme", "site"); other == id {
		t.Error("two repositories share an id")
	}
	for _, path := range []string{"/repos/acme/shop", "/repos/ACME/Shop", fmt.Sprintf("/repositories/%d", id)} {
		r := call(t, s, "GET", path, nil)
		got := decode[struct {
			ID       int64  `json:"id"`
			FullName string `json:"full_name"`
		}](t, r)
		if r.Status != 200 || got.ID != id || got.FullName != "acme/shop" {
			t.Errorf("GET %s: %d %+v", path, r.Status, got)
		}
	}
	for _, path := range []string{"/repos/acme/nope", "/repositories/1", "/repositories/shop", "/repos/acme"} {
		expectError(t, call(t, s, "GET", path, nil), 404, "", "", "Not Found")
	}
	// Labels: GitHub's defaults, in pages.
	r := call(t, s, "GET", "/repos/acme/shop/labels?per_page=4", nil)
	labels := decode[[]struct {
		Name    string `json:"name"`
		Default bool   `json:"default"`
	}](t, r)
	if len(labels) != 4 || !labels[0].Default || parseLink(t, r.Header.Get("Link"))["next"] == nil {
		t.Errorf("first page of default labels %+v, Link %q", labels, r.Header.Get("Link"))
	}
	var all []string
	for page := 1; page <= 3; page++ {
		for _, l := range decode[[]struct{ Name string }](t, call(t, s, "GET", fmt.Sprintf("/repositories/%d/labels?per_page=4&page=%d", id, page), nil)) {
			all = append(all, l.Name)
		}
	}
	if len(all) != 9 || !slices.Contains(all, "bug") || !slices.Contains(all, "good first issue") {
		t.Errorf("default labels %v, want GitHub's nine", all)
	}
}

func TestIssuesDisabledAnswersGone(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	s.SetIssuesDisabled("acme", "shop", true)
	s.SetIssuesDisabled("acme", "nope", true) // ignored
	for _, tc := range []struct{ method, path string }{
		{"GET", "/repos/acme/shop/issues"},
		{"GET", "/repos/acme/shop/issues/1"},
		{"PATCH", "/repos/acme/shop/issues/1"},
		{"GET", "/repos/acme/shop/issues/1/comments"},
		{"POST", "/repos/acme/shop/issues/1/labels"},
		{"PUT", "/repos/acme/shop/issues/1/lock"},
		{"GET", "/repos/acme/shop/issues/1/sub_issues"},
	} {
		expectError(t, call(t, s, tc.method, tc.path, nil), 410, "", "", "Issues are disabled for this repo")
	}
	// The repository and its labels still answer.
	expectStatus(t, call(t, s, "GET", "/repos/acme/shop", nil), 200, "repository")
	expectStatus(t, call(t, s, "GET", "/repos/acme/shop/labels", nil), 200, "labels")
	if r := call(t, s, "GET", "/repos/acme/shop", nil); !strings.Contains(string(r.Body), `"has_issues":false`) {
		t.Errorf("repository with issues disabled: %.300s", r.Body)
	}
}

func TestCorruptOrMissingDataFile(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Options{DataFile: dir + "/missing.json"})
	if err != nil {
		t.Fatalf("a missing data file: %v", err)
	}
	if got := s.Issues("acme", "shop"); got != nil {
		t.Errorf("a fresh server has issues %v", got)
	}
	s.AddRepo("acme", "shop") // saves
	if _, err := New(Options{DataFile: dir + "/missing.json"}); err != nil {
		t.Errorf("loading what was saved: %v", err)
	}
	if _, err := New(Options{DataFile: dir}); err == nil || !strings.Contains(err.Error(), "reading data file") {
		t.Errorf("a directory as data file: %v", err)
	}
	// A data file that cannot be written: the change stays in memory and
	// the failure goes to the logger.
	var logged bytes.Buffer
	gone, err := New(Options{DataFile: dir + "/gone/github.json", Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	gone.AddRepo("acme", "shop")
	if got := gone.Issues("acme", "shop"); got == nil {
		t.Error("the repository was not kept in memory")
	}
	if !strings.Contains(logged.String(), "localgithub: saving state") || !strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("logged %q, want the failed save", logged.String())
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	for _, tc := range []struct{ method, path string }{
		{"GET", "/"},
		{"PUT", "/repos/acme/shop/issues"},
		{"POST", "/repos/acme/shop"},
		{"GET", "/repos/acme/shop/issues/1/events"},
		{"POST", "/orgs/acme/projectsV2"},
		{"PATCH", "/orgs/acme/projectsV2/1/fields/1"},
		{"GET", "/orgs/acme/projectsV2/1/views/1/items"},
		{"GET", "/repos/acme/shop/issue-types"},
		{"DELETE", "/repos/acme/shop/issues/1/sub_issues"},
	} {
		r := call(t, s, tc.method, tc.path, nil)
		if r.Status != http.StatusNotFound || decode[apiErrorBody](t, r).Message != "Not Found" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
	}
}
