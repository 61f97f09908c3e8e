package tracker_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// historyBody is a closed issue of an earlier year: a long body with the key
// marker of a journey's work.
func historyBody(journey string) func(int) string {
	return func(i int) string {
		return strings.Repeat("Findings of the review. ", 80) + "\n\n" + tracker.KeyMarker(fmt.Sprintf("ns/%s/review/%d", journey, i))
	}
}

// TestIndexIsSharedByTheJourneysOfARepository: journeys tracking one
// repository with years of closed issues list it once between them, hold
// each issue once (closed ones without their bodies), see only their own
// keys, and free the index with the last of them.
func TestIndexIsSharedByTheJourneysOfARepository(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	const history = 1200 // 12 pages
	for _, journey := range []string{"shop", "museum"} {
		if _, err := e.srv.AddHistory(owner, repo, history/2, []string{"cxloop"}, historyBody(journey)); err != nil {
			t.Fatal(err)
		}
	}
	journeys := []string{"shop", "museum", "park", "zoo", "cafe"}
	clients := map[string]*tracker.Client{}
	for _, j := range journeys {
		clients[j] = e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/" + j + "/" })
	}
	before := e.requestCount()
	for _, j := range journeys {
		m, err := clients[j].Issues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if j == "shop" || j == "museum" {
			want = history / 2
		}
		if len(m) != want {
			t.Errorf("journey %s sees %d issues, want %d (its own)", j, len(m), want)
		}
		for k, is := range m {
			if !strings.HasPrefix(k, "ns/"+j+"/") {
				t.Errorf("journey %s sees another journey's key %s", j, k)
			}
			if is.Body != "" {
				t.Errorf("closed issue #%d kept its body", is.Number)
				break
			}
		}
	}
	// One listing of every page, then one look for what changed while it ran.
	if n := e.requestCount() - before; n != history/100+1 {
		for _, r := range e.requestsSince(before) {
			t.Logf("%s %s %d", r.Method, r.Path, r.Status)
		}
		t.Errorf("5 journeys sent %d requests to list a repository of %d pages, want %d (one listing)", n, history/100, history/100+1)
	}
	st := clients["shop"].IndexStats()
	if st.Issues != history || st.Holders != len(journeys) {
		t.Errorf("index holds %d issues for %d holders, want %d for %d", st.Issues, st.Holders, history, len(journeys))
	}
	// Closed issues cost their key and state, not their 2 KB bodies.
	if per := st.Bytes / st.Issues; per > 400 {
		t.Errorf("index holds %d bytes per closed issue, want at most 400", per)
	}
	t.Logf("index: %d issues, %d KiB (%d bytes each)", st.Issues, st.Bytes>>10, st.Bytes/st.Issues)

	// A journey's new issue is seen by the others at once, without a listing.
	is, created, err := clients["park"].EnsureIssue(ctx, req("ns/park/painpoint/x"))
	if err != nil || !created {
		t.Fatal(created, err)
	}
	before = e.requestCount()
	again, created, err := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/park/" }).EnsureIssue(ctx, req("ns/park/painpoint/x"))
	if err != nil || created || again.Number != is.Number {
		t.Fatalf("another client of the repository: #%d created %v err %v; want #%d adopted", again.Number, created, err, is.Number)
	}
	if n := e.requestCount() - before; n != 0 {
		t.Errorf("adopting an issue the index holds sent %d requests", n)
	}

	// Freed with its last holder: a new client starts a new index.
	for _, c := range clients {
		c.Close()
	}
	fresh := e.client()
	if st := fresh.IndexStats(); st.Holders != 2 {
		// the client made for adopting above still holds it
		t.Errorf("after closing 5 of 7 holders: %d holders, want 2", st.Holders)
	}
}

// TestIndexHoldsMoreThanTheOldPageCap: 25,000 closed issues (250 pages of
// 100; the per-journey listing stopped at 200) are listed whole, once.
func TestIndexHoldsMoreThanTheOldPageCap(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 250 pages")
	}
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	const history = 25000
	if _, err := e.srv.AddHistory(owner, repo, history, []string{"cxloop"}, historyBody("shop")); err != nil {
		t.Fatal(err)
	}
	c := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/shop/" })
	m, err := c.Issues(ctx)
	if err != nil || len(m) != history {
		t.Fatalf("Issues = %d, %v; want %d", len(m), err, history)
	}
	st := c.IndexStats()
	t.Logf("index of %d closed issues: %d KiB", st.Issues, st.Bytes>>10)
	if st.Bytes > 16<<20 {
		t.Errorf("index of %d closed issues holds %d MiB, want under 16", st.Issues, st.Bytes>>20)
	}
	// A webhook's news makes the next caller look at once.
	before := e.requestCount()
	if _, err := c.Issues(ctx); err != nil || e.requestCount() != before {
		t.Fatalf("a sync within the shared refresh sent requests (%v)", err)
	}
	tracker.InvalidateRepository(owner, repo, 0)
	if _, err := c.Issues(ctx); err != nil || e.requestCount() == before {
		t.Fatalf("after InvalidateRepository no request was sent (%v)", err)
	}
}

// shopWithHistory is a repository with 150 closed cxloop issues of other
// years and the shop journey's client, which has listed it once.
func shopWithHistory(t *testing.T) (*env, *tracker.Client) {
	t.Helper()
	e := newEnv(t, localgithub.Options{})
	if _, err := e.srv.AddHistory(owner, repo, 150, []string{"cxloop"}, historyBody("shop")); err != nil {
		t.Fatal(err)
	}
	c := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/shop/" })
	if _, err := c.Issues(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, c
}

// expectAll304 checks that every request was conditional and answered 304.
func expectAll304(t *testing.T, requests []localgithub.Request, what string) {
	t.Helper()
	for _, r := range requests {
		if r.Status != http.StatusNotModified || !r.Conditional {
			t.Errorf("%s: %s %s answered %d (conditional %v), want a conditional request answered 304", what, r.Method, r.Path, r.Status, r.Conditional)
		}
	}
}

// TestIdleRepositoryIsAnswered304: once the index has seen a change, every
// refresh of an idle repository is one conditional request answered 304
// (which GitHub does not count against the rate limit), also when changes
// keep being reported to it.
func TestIdleRepositoryIsAnswered304(t *testing.T) {
	e, c := shopWithHistory(t)
	ctx := context.Background()
	// Changes on GitHub: a few closes, each seen by a refresh.
	for i := 0; i < 3; i++ {
		is, _, err := c.EnsureIssue(ctx, req(fmt.Sprintf("ns/shop/painpoint/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Step(2 * time.Second)
		if err := e.srv.CloseIssue(owner, repo, is.Number, "completed"); err != nil {
			t.Fatal(err)
		}
		tracker.InvalidateRepository(owner, repo, 0)
		m, err := c.Issues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := m[fmt.Sprintf("ns/shop/painpoint/%d", i)]; got.State != "closed" {
			t.Fatalf("after the close and a refresh the index holds #%d %q, want closed", is.Number, got.State)
		}
	}
	// Idle: nothing changes; every refresh is one 304.
	before := e.requestCount()
	for i := 0; i < 5; i++ {
		tracker.InvalidateRepository(owner, repo, 0)
		if _, err := c.Issues(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := e.requestsSince(before)
	if len(got) != 5 {
		t.Errorf("5 refreshes of an idle repository sent %d requests, want 5", len(got))
	}
	expectAll304(t, got, "idle refresh")
}

// TestIdleAfterABusyStretchIsAnswered304: a refresh that sees more than
// half a page of changes moves its lower bound up; the first idle refresh
// after it is a 304 too, not the first request of a new listing.
func TestIdleAfterABusyStretchIsAnswered304(t *testing.T) {
	e, c := shopWithHistory(t)
	ctx := context.Background()
	// A busy stretch: 60 issues reopened on GitHub, seen by one refresh.
	e.clk.Step(time.Minute)
	for n := 1; n <= 60; n++ {
		if err := e.srv.ReopenIssue(owner, repo, n); err != nil {
			t.Fatal(err)
		}
	}
	tracker.InvalidateRepository(owner, repo, 0)
	m, err := c.Issues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, is := range m {
		if is.State == "open" {
			open++
		}
	}
	if open != 60 {
		t.Fatalf("after the refresh the index holds %d open issues, want 60", open)
	}
	before := e.requestCount()
	for i := 0; i < 3; i++ {
		tracker.InvalidateRepository(owner, repo, 0)
		if _, err := c.Issues(ctx); err != nil {
			t.Fatal(err)
		}
	}
	expectAll304(t, e.requestsSince(before), "idle refresh after a busy stretch")
}

// TestDeliveriesOfOwnOpensKeepTheViewWithoutARefresh: a delivery that an
// issue was opened (cxloop's own) marks nothing changed, but shows the
// repository's webhooks work; one that an issue was closed makes the next
// caller ask.
func TestDeliveriesOfOwnOpensKeepTheViewWithoutARefresh(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	c := e.client(func(c *tracker.Config) { c.KeyPrefix = "ns/shop/" })
	if _, err := c.Issues(ctx); err != nil {
		t.Fatal(err)
	}
	before := e.requestCount()
	tracker.NoteDelivery(owner, repo, 0)
	if _, err := c.Issues(ctx); err != nil || e.requestCount() != before {
		t.Fatalf("after a delivery of an own open the view was refreshed (%v)", err)
	}
	tracker.InvalidateRepository(owner, repo, 0)
	if _, err := c.Issues(ctx); err != nil || e.requestCount() == before {
		t.Fatalf("after a delivery of a change no request was sent (%v)", err)
	}
}

// TestIndexMetricsShowEachRepositoryOnce: a repository tracked with two
// credentials has an index for each; its series sum their bytes and show
// the most issues either holds, and go with the last journey tracking it.
func TestIndexMetricsShowEachRepositoryOnce(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	const name = "journeys-two-teams" // a repository no other test's indexes hold
	e.srv.AddRepo(owner, name)
	if _, err := e.srv.AddHistory(owner, name, 150, []string{"cxloop"}, historyBody("shop")); err != nil {
		t.Fatal(err)
	}
	other := "ghp_other_" + e.token
	e.srv.AddToken(other)
	shop := e.client(func(c *tracker.Config) { c.Repo, c.KeyPrefix = name, "ns/shop/" })
	museum := e.client(func(c *tracker.Config) {
		c.Repo, c.KeyPrefix, c.Credentials = name, "team-b/museum/", tracker.Credentials{Token: other}
	})
	for _, c := range []*tracker.Client{shop, museum} {
		if _, err := c.Issues(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a, b := shop.IndexStats(), museum.IndexStats()
	if a.Holders != 1 || b.Holders != 1 || a.Issues != 150 || b.Issues != 150 {
		t.Fatalf("two credentials' indexes: %+v and %+v, want one holder and 150 issues each", a, b)
	}
	series := func() (issues, bytes float64, n int) {
		t.Helper()
		mfs, err := metrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() != "repository" || l.GetValue() != owner+"/"+name {
						continue
					}
					switch mf.GetName() {
					case "cxloop_github_issue_index_issues":
						issues, n = m.GetGauge().GetValue(), n+1
					case "cxloop_github_issue_index_bytes":
						bytes, n = m.GetGauge().GetValue(), n+1
					}
				}
			}
		}
		return issues, bytes, n
	}
	issues, bytes, n := series()
	if n != 2 || issues != 150 || bytes != float64(a.Bytes+b.Bytes) {
		t.Errorf("series of the repository: %d, issues %v, bytes %v; want 2 series, 150 issues, %d bytes (both indexes)", n, issues, bytes, a.Bytes+b.Bytes)
	}
	shop.Close()
	if issues, bytes, _ := series(); issues != 150 || bytes != float64(b.Bytes) {
		t.Errorf("after one team's journey is gone: issues %v, bytes %v; want 150, %d (the other's index)", issues, bytes, b.Bytes)
	}
	museum.Close()
	if _, _, n := series(); n != 0 {
		t.Errorf("after the last journey of the repository is gone: %d series, want none", n)
	}
}
