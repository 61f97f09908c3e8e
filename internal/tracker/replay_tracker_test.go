package tracker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/google/go-github/v60/github"
)

const replayToken = "ghp_replayTOKEN0123456789abcdefghijklmnop"

func TestReplayPaginatesRecordedIssuesAndRevalidates(t *testing.T) {
	rs := newReplayServer(t, "paginate-issues.json")
	c, err := New(Config{
		Owner: "octokit-fixture-org", Repo: "tmp-scenario-paginate-issues-20220719043836917-izyoe",
		APIURL: rs.URL(), Credentials: Credentials{Token: replayToken + "-paginate"}, PageSize: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.index.refresh(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	var issues []cachedIssue
	for n := range c.index.entries {
		is, _ := c.index.entry(n)
		issues = append(issues, is)
	}
	if len(issues) != 13 {
		t.Fatalf("listed %d issues over the recorded pages, want 13", len(issues))
	}
	seen := map[int]bool{}
	for _, is := range issues {
		if seen[is.Number] {
			t.Errorf("issue #%d listed twice", is.Number)
		}
		seen[is.Number] = true
		if !strings.HasPrefix(is.Title, "Test issue ") || is.State != "open" || is.URL == "" || is.CreatedAt.IsZero() {
			t.Errorf("issue decoded badly: %+v", is.Issue)
		}
	}
	// The listing; then one look for what changed while it ran (the
	// recording answers it with the same pages).
	reqs := rs.Requests()
	afterListing := len(reqs)
	wantPaths := []string{
		"/repos/octokit-fixture-org/tmp-scenario-paginate-issues-20220719043836917-izyoe/issues",
		"/repositories/515435940/issues", "/repositories/515435940/issues",
		"/repositories/515435940/issues", "/repositories/515435940/issues",
	}
	if len(reqs) < len(wantPaths) || !strings.Contains(reqs[len(wantPaths)].RawQuery, "since=") {
		t.Fatalf("sent %d requests, want the %d of the listing, then a look for changes: %+v", len(reqs), len(wantPaths), reqs)
	}
	reqs = reqs[:len(wantPaths)]
	for i, r := range reqs {
		if r.Path != wantPaths[i] || r.Status != http.StatusOK || r.IfNoneMatch != "" {
			t.Errorf("request %d = %+v, want GET %s answered 200", i, r, wantPaths[i])
		}
		if r.Authorization != "Bearer "+replayToken+"-paginate" {
			t.Errorf("request %d not authenticated", i)
		}
	}
	for _, p := range []string{"state=all", "labels=cxloop", "sort=updated", "direction=desc", "per_page=3"} {
		if !strings.Contains(reqs[0].RawQuery, p) {
			t.Errorf("first page query %q lacks %s", reqs[0].RawQuery, p)
		}
	}
	if !strings.Contains(reqs[4].RawQuery, "page=5") {
		t.Errorf("last request %q is not page 5", reqs[4].RawQuery)
	}

	// A second sync within indexFreshFor shares the first: no request.
	if err := c.index.refresh(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	if n := len(rs.Requests()); n != afterListing {
		t.Fatalf("a sync within %v of the listing sent %d requests, want none", indexFreshFor, n-afterListing)
	}
	// None of the recorded issues carries a key marker: Issues reports none.
	m, err := c.Issues(ctx)
	if err != nil || len(m) != 0 {
		t.Fatalf("Issues() = %v, %v; want empty", m, err)
	}
}

func TestReplayRecordedValidationError(t *testing.T) {
	rs := newReplayServer(t, "errors.json")
	c, err := New(Config{
		Owner: "octokit-fixture-org", Repo: "tmp-scenario-errors-20220719043735842-akvrn",
		APIURL: rs.URL(), Credentials: Credentials{Token: replayToken + "-errors"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The recording: a label with an invalid colour, answered 422.
	_, _, err = c.gh.Issues.CreateLabel(context.Background(), c.cfg.Owner, c.cfg.Repo, &github.Label{Name: github.String("foo"), Color: github.String("invalid")})
	err = c.mapError(err, opRepo)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *APIError", err, err)
	}
	if ae.Reason != cxv1.ReasonValidationFailed || ae.StatusCode != http.StatusUnprocessableEntity || Reason(err) != "ValidationFailed" {
		t.Errorf("got %+v, want ValidationFailed 422", ae)
	}
	if !strings.Contains(ae.Message, "Validation Failed") || !strings.Contains(ae.Message, "Label.color: invalid") {
		t.Errorf("message %q lacks GitHub's message and the failing field", ae.Message)
	}
	if strings.Contains(err.Error(), replayToken) {
		t.Errorf("error reveals the token: %v", err)
	}
}
