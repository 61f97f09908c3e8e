package localgithub

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestRenamedRepositoryRedirects: as on GitHub, a renamed or transferred
// repository keeps its ID; its old name answers 301 (reads) and 307
// (writes) to the same path under /repositories/{id}, which go-github
// follows, and its webhooks name it by its new name.
func TestRenamedRepositoryRedirects(t *testing.T) {
	s := startServer(t, Options{})
	id := s.AddRepo("acme", "journeys")
	c := newClient(t, s, testToken)
	ctx := context.Background()
	if err := s.RenameRepo("acme", "journeys", "acme-cx", "journeys-2027"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameRepo("acme", "nothing", "x", "y"); err != ErrNotFound {
		t.Errorf("renaming an unknown repository: %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/repos/acme/journeys", http.StatusMovedPermanently},
		{http.MethodGet, "/repos/ACME/journeys/issues?state=all", http.StatusMovedPermanently},
		{http.MethodPost, "/repos/acme/journeys/issues", http.StatusTemporaryRedirect},
	} {
		req, _ := http.NewRequest(tc.method, s.URL()+strings.TrimPrefix(tc.path, "/"), strings.NewReader(`{"title":"x"}`))
		req.Header.Set("Authorization", "token "+testToken)
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := s.URL() + "repositories/" + strconv.FormatInt(id, 10) + strings.TrimPrefix(strings.TrimPrefix(tc.path, "/repos/acme/journeys"), "/repos/ACME/journeys")
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != want {
			t.Errorf("%s %s = %d to %q, want %d to %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.status, want)
		}
	}

	repo, _, err := c.Repositories.Get(ctx, "acme", "journeys")
	if err != nil || repo.GetID() != id || repo.GetFullName() != "acme-cx/journeys-2027" {
		t.Fatalf("GET by the old name = %v %v, want ID %d named acme-cx/journeys-2027", repo, err, id)
	}
	is, _, err := c.Issues.Create(ctx, "acme", "journeys", &github.IssueRequest{Title: github.String("through the redirect")})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Issues("acme-cx", "journeys-2027"); len(got) != 1 || got[0].Number != is.GetNumber() {
		t.Fatalf("issues of the renamed repository = %+v, want the one created through the redirect", got)
	}
	// The new name is served directly, and a repository created under the
	// old name takes it over from the redirect.
	if _, resp, err := c.Repositories.Get(ctx, "acme-cx", "journeys-2027"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET by the new name: %v", err)
	}
	if other := s.AddRepo("acme", "journeys"); other == id {
		t.Fatal("a new repository under the old name got the renamed one's ID")
	}
	if repo, _, err := c.Repositories.Get(ctx, "acme", "journeys"); err != nil || repo.GetID() == id {
		t.Fatalf("the old name still redirects after a new repository took it: %v %v", repo, err)
	}
}
