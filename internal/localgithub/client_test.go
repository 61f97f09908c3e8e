package localgithub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// These tests drive the server through go-github, as cxloop does.

func TestGoGitHubIssueLifecycle(t *testing.T) {
	s, clock, client, ctx := newShop(t)

	repo, _, err := client.Repositories.Get(ctx, "acme", "shop")
	if err != nil || repo.GetFullName() != "acme/shop" || !repo.GetHasIssues() {
		t.Fatalf("repo %v %v", repo, err)
	}

	created, resp, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{
		Title:     github.String("Checkout is slow"),
		Body:      github.String("p95 4s on /checkout"),
		Labels:    &[]string{"cx-journey", "bug"},
		Assignees: &[]string{"hubot"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || created.GetNumber() != 1 || created.GetState() != "open" ||
		created.GetHTMLURL() != s.URL()+"acme/shop/issues/1" || created.GetUser().GetLogin() != "octocat" {
		t.Errorf("created %d %+v", resp.StatusCode, created)
	}
	if resp.Rate.Limit != 5000 || resp.Rate.Remaining != 4998 {
		t.Errorf("rate %+v", resp.Rate)
	}
	// The new label was created with GitHub's default colour; bug existed.
	label, _, err := client.Issues.GetLabel(ctx, "acme", "shop", "cx-journey")
	if err != nil || label.GetColor() != "ededed" || label.GetDefault() {
		t.Errorf("label %v %v", label, err)
	}

	clock.Step(time.Minute)
	edited, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{
		Title:       github.String("Checkout p95 is 4s"),
		Labels:      &[]string{"cx-journey"},
		State:       github.String("closed"),
		StateReason: github.String("not_planned"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if edited.GetState() != "closed" || edited.GetStateReason() != "not_planned" || edited.ClosedAt == nil ||
		len(edited.Labels) != 1 || edited.GetBody() != "p95 4s on /checkout" || edited.GetClosedBy().GetLogin() != "octocat" ||
		!edited.GetUpdatedAt().Time.Equal(clock.Now()) {
		t.Errorf("edited %+v", edited)
	}

	open, _, err := client.Issues.ListByRepo(ctx, "acme", "shop", nil)
	if err != nil || len(open) != 0 {
		t.Errorf("open issues %v %v", open, err)
	}
	closed, _, err := client.Issues.ListByRepo(ctx, "acme", "shop", &github.IssueListByRepoOptions{State: "closed"})
	if err != nil || len(closed) != 1 || closed[0].GetNumber() != 1 {
		t.Errorf("closed issues %v %v", closed, err)
	}

	reopened, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{State: github.String("open")})
	if err != nil || reopened.GetState() != "open" || reopened.GetStateReason() != "reopened" || reopened.ClosedAt != nil {
		t.Errorf("reopened %+v %v", reopened, err)
	}

	comment, _, err := client.Issues.CreateComment(ctx, "acme", "shop", 1, &github.IssueComment{Body: github.String("Fixed by caching")})
	if err != nil || comment.GetBody() != "Fixed by caching" {
		t.Fatalf("comment %v %v", comment, err)
	}
	comments, _, err := client.Issues.ListComments(ctx, "acme", "shop", 1, nil)
	if err != nil || len(comments) != 1 || comments[0].GetID() != comment.GetID() {
		t.Errorf("comments %v %v", comments, err)
	}
	if got, _, _ := client.Issues.Get(ctx, "acme", "shop", 1); got.GetComments() != 1 {
		t.Errorf("comment count %d", got.GetComments())
	}

	if _, err := client.Issues.Lock(ctx, "acme", "shop", 1, &github.LockIssueOptions{LockReason: "resolved"}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := client.Issues.Get(ctx, "acme", "shop", 1); !got.GetLocked() || got.GetActiveLockReason() != "resolved" {
		t.Errorf("locked %v %q", got.GetLocked(), got.GetActiveLockReason())
	}
	if _, err := client.Issues.Unlock(ctx, "acme", "shop", 1); err != nil {
		t.Fatal(err)
	}

	snap := s.Issues("acme", "shop")
	if len(snap) != 1 || snap[0].Locked || snap[0].State != "open" || snap[0].Title != "Checkout p95 is 4s" ||
		!slices.Equal(snap[0].Labels, []string{"cx-journey"}) || !slices.Equal(snap[0].Assignees, []string{"hubot"}) {
		t.Errorf("snapshot %+v", snap)
	}
}

func TestGoGitHubListFiltersAndPagination(t *testing.T) {
	s, clock, client, ctx := newShop(t)

	for i := 1; i <= 7; i++ {
		clock.Step(time.Minute)
		labels := []string{"cx"}
		if i%2 == 0 {
			labels = append(labels, "Checkout")
		}
		if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{
			Title: github.String(fmt.Sprintf("issue %d", i)), Labels: &labels,
		}); err != nil {
			t.Fatal(err)
		}
	}
	midpoint := clock.Now()
	clock.Step(time.Minute)
	if _, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{Body: github.String("touched")}); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIssue("acme", "shop", 3, ""); err != nil {
		t.Fatal(err)
	}

	// Walk all pages by following the Link header, as callers do.
	var numbers []int
	opts := &github.IssueListByRepoOptions{State: "all", Direction: "asc", ListOptions: github.ListOptions{PerPage: 3}}
	pages := 0
	for {
		issues, resp, err := client.Issues.ListByRepo(ctx, "acme", "shop", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, is := range issues {
			numbers = append(numbers, is.GetNumber())
		}
		if resp.LastPage != 0 && resp.LastPage != 3 {
			t.Errorf("LastPage %d", resp.LastPage)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || !slices.Equal(numbers, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("%d pages, numbers %v", pages, numbers)
	}

	listNumbers := func(o *github.IssueListByRepoOptions) []int {
		t.Helper()
		issues, _, err := client.Issues.ListByRepo(ctx, "acme", "shop", o)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, is := range issues {
			out = append(out, is.GetNumber())
		}
		return out
	}
	for name, tc := range map[string]struct {
		opts *github.IssueListByRepoOptions
		want []int
	}{
		"default is open, newest first": {nil, []int{7, 6, 5, 4, 2, 1}},
		"closed":                        {&github.IssueListByRepoOptions{State: "closed"}, []int{3}},
		"all labels must match":         {&github.IssueListByRepoOptions{Labels: []string{"cx", "checkout"}}, []int{6, 4, 2}},
		"unknown label":                 {&github.IssueListByRepoOptions{Labels: []string{"cx", "nope"}}, nil},
		"since":                         {&github.IssueListByRepoOptions{State: "all", Since: midpoint.Add(time.Second)}, []int{3, 1}},
		"sort updated":                  {&github.IssueListByRepoOptions{Sort: "updated", ListOptions: github.ListOptions{PerPage: 2}}, []int{1, 7}},
	} {
		if got := listNumbers(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}

	r := call(t, s, "GET", "/repos/acme/shop/issues?per_page=500&state=all", nil)
	if got := len(r.JSON(t).([]any)); got != 7 || r.Header.Get("Link") != "" {
		t.Errorf("per_page 500: %d issues, Link %q", got, r.Header.Get("Link"))
	}
}

func TestGoGitHubErrors(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	client := newClient(t, s, testToken)
	ctx := context.Background()

	status := func(err error) (int, *github.ErrorResponse) {
		t.Helper()
		var e *github.ErrorResponse
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v, want *github.ErrorResponse", err, err)
		}
		return e.Response.StatusCode, e
	}

	_, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("")})
	if code, e := status(err); code != http.StatusUnprocessableEntity || e.Message != "Validation Failed" ||
		len(e.Errors) != 1 || e.Errors[0].Field != "title" || e.Errors[0].Code != "missing_field" || e.Errors[0].Resource != "Issue" {
		t.Errorf("empty title: %d %+v", code, e)
	}
	_, _, err = client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String(strings.Repeat("x", 257))})
	if code, _ := status(err); code != http.StatusUnprocessableEntity {
		t.Errorf("long title: %d", code)
	}
	_, _, err = client.Issues.Create(ctx, "acme", "nope", &github.IssueRequest{Title: github.String("x")})
	if code, e := status(err); code != http.StatusNotFound || e.Message != "Not Found" {
		t.Errorf("unknown repo: %d %+v", code, e)
	}
	_, _, err = client.Issues.Get(ctx, "acme", "shop", 99)
	if code, _ := status(err); code != http.StatusNotFound {
		t.Errorf("unknown issue: %d", code)
	}
	_, _, err = newClient(t, s, "wrong").Issues.Get(ctx, "acme", "shop", 1)
	if code, e := status(err); code != http.StatusUnauthorized || e.Message != "Bad credentials" || e.DocumentationURL != "https://docs.github.com/rest" {
		t.Errorf("bad token: %d %+v", code, e)
	}
	// Unauthenticated and failed requests spend the address's budget of 60.
	anon := call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", "")
	if anon.Status != http.StatusUnauthorized || anon.Header.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("no token: %d, limit %q", anon.Status, anon.Header.Get("X-RateLimit-Limit"))
	}
	if got := remainingOf(t, anon); got != 60-2 {
		t.Errorf("anonymous remaining %d, want 58 after the bad token and this request", got)
	}

	s.SetIssuesDisabled("acme", "shop", true)
	_, _, err = client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("x")})
	if code, e := status(err); code != http.StatusGone || e.Message != "Issues are disabled for this repo" {
		t.Errorf("issues disabled: %d %+v", code, e)
	}
	s.SetIssuesDisabled("acme", "shop", false)
	if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("x")}); err != nil {
		t.Errorf("after enabling issues: %v", err)
	}

	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/repos/acme/shop/pulls"},
		{"DELETE", "/repos/acme/shop/issues/1"},
	} {
		r := call(t, s, tc.method, tc.path, nil)
		if r.Status != http.StatusNotFound || r.JSON(t).(map[string]any)["message"] != "Not Found" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
	}
	if r := call(t, s, "POST", "/repos/acme/shop/issues", "{not json"); r.Status != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", r.Status)
	}
}

func TestConcurrentCreatesGetDistinctNumbers(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	client := newClient(t, s, testToken)
	const n = 20
	var wg sync.WaitGroup
	numbers := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			issue, _, err := client.Issues.Create(context.Background(), "acme", "shop", &github.IssueRequest{Title: github.String(fmt.Sprint("issue ", i))})
			numbers[i], errs[i] = issue.GetNumber(), err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(numbers)
	for i, got := range numbers {
		if got != i+1 {
			t.Fatalf("numbers %v, want 1..%d", numbers, n)
		}
	}
	if got := s.RateLimitRemaining(testToken); got != 5000-n {
		t.Errorf("remaining %d, want %d", got, 5000-n)
	}
}

func TestHandlerWithoutStart(t *testing.T) {
	s := newServer(t, Options{})
	s.AddRepo("acme", "shop")
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	client := github.NewClient(ts.Client()).WithAuthToken(testToken)
	base, _ := url.Parse(ts.URL + "/")
	client.BaseURL = base
	issue, resp, err := client.Issues.Create(context.Background(), "acme", "shop", &github.IssueRequest{Title: github.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	if issue.GetHTMLURL() != ts.URL+"/acme/shop/issues/1" || resp.Header.Get("Location") != ts.URL+"/repos/acme/shop/issues/1" {
		t.Errorf("URLs %q %q, want them on the request's host", issue.GetHTMLURL(), resp.Header.Get("Location"))
	}
}
