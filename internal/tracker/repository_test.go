package tracker_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// TestRenamedRepositoryIsFollowedAndRedirectedWritesCountOnce: the client
// learns the repository's ID and name; after a rename, GitHub redirects the
// old name (301 for reads, 307 for writes) and the client follows: the
// listing works, the identity is asked again and names the new repository,
// and a write through a 307 counts once against the write budget (here two
// an hour: one redirected close leaves room for another write, two spend it).
func TestRenamedRepositoryIsFollowedAndRedirectedWritesCountOnce(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	id := e.srv.AddRepo(owner, repo)
	seed := e.client(func(c *tracker.Config) { c.WritesPerHour = 100 })
	var numbers []int
	for _, k := range []string{"a/one", "a/two"} {
		is, _, err := seed.EnsureIssue(ctx, req(k))
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, is.Number)
	}

	// A token of its own, so that its write budget starts empty.
	e.token += "-budget"
	e.srv.AddToken(e.token)
	c := e.client(func(c *tracker.Config) { c.WritesPerHour = 2 })
	got, err := c.Repository(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.FullName != owner+"/"+repo {
		t.Fatalf("Repository = %+v, want ID %d and %s/%s", got, id, owner, repo)
	}
	if err := e.srv.RenameRepo(owner, repo, "acme-cx", "journeys-2027"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Repository(ctx); got.FullName != owner+"/"+repo {
		t.Errorf("Repository asked GitHub again with nothing suggesting a rename: %+v", got)
	}

	issues, err := c.Issues(ctx)
	if err != nil || len(issues) != 2 {
		t.Fatalf("listing under the old name: %d issues, err %v; want 2 through the redirect", len(issues), err)
	}
	got, err = c.Repository(ctx)
	if err != nil || got.ID != id || got.FullName != "acme-cx/journeys-2027" {
		t.Fatalf("after a redirected listing Repository = %+v, %v; want ID %d named acme-cx/journeys-2027", got, err, id)
	}

	before := e.requestCount()
	if err := c.CloseIssue(ctx, numbers[0], "completed", ""); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for _, r := range e.requestsSince(before) {
		if r.Method == http.MethodPatch {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != http.StatusTemporaryRedirect || statuses[1] != http.StatusOK {
		t.Fatalf("close went out as PATCH answers %v, want [307 200] (redirected once)", statuses)
	}
	if d := c.WriteDelay("test"); d != 0 {
		t.Fatalf("after one redirected close the budget of 2 an hour says wait %v: the redirect was counted as a second write", d)
	}
	if err := c.CloseIssue(ctx, numbers[1], "completed", ""); err != nil {
		t.Fatal(err)
	}
	if d := c.WriteDelay("test"); d == 0 {
		t.Fatal("two closes did not spend a budget of two writes an hour")
	}
	for _, is := range e.srv.Issues("acme-cx", "journeys-2027") {
		if is.State != "closed" {
			t.Errorf("issue #%d is %s, want closed", is.Number, is.State)
		}
	}
}
