package tracker_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// TestJourneysOfARepositoryShareTheirConditionalAnswers: the answers that
// make GitHub requests conditional are kept once per credentials, not
// once per journey: a second journey's first look at the repository is a
// 304, and another token's is not.
func TestJourneysOfARepositoryShareTheirConditionalAnswers(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	shop := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/shop/" })
	if _, err := shop.Repository(ctx); err != nil {
		t.Fatal(err)
	}
	entries, bytes := tracker.ConditionalCacheStats()

	before := e.requestCount()
	museum := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/museum/" })
	r, err := museum.Repository(ctx)
	if err != nil || r.FullName != owner+"/"+repo {
		t.Fatalf("Repository = %+v, %v", r, err)
	}
	got := e.requestsSince(before)
	if len(got) != 1 {
		t.Fatalf("the second journey's look at the repository sent %d requests, want 1", len(got))
	}
	expectAll304(t, got, "the second journey's first look at the repository")
	if n, b := tracker.ConditionalCacheStats(); n != entries || b != bytes {
		t.Errorf("the second journey's look added to the store: %d entries/%d bytes, before %d/%d", n, b, entries, bytes)
	}

	// Another token may see another repository under the same URL: it is
	// never answered from the first token's ETag.
	other := "ghp_other_" + e.token
	e.srv.AddToken(other)
	before = e.requestCount()
	stranger := e.client(func(c *tracker.Config) { c.Credentials = tracker.Credentials{Token: other} })
	if _, err := stranger.Repository(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.requestsSince(before) {
		if r.Conditional {
			t.Errorf("another token's %s %s carried the first token's ETag", r.Method, r.Path)
		}
		if r.Status != http.StatusOK {
			t.Errorf("another token's %s %s answered %d, want 200", r.Method, r.Path, r.Status)
		}
	}
}
