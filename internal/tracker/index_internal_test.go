package tracker

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// TestOpenRecheckAsksBeforeDropping: an open issue that the listing of open
// issues does not show (it moved to a page already read when an issue
// before it was closed meanwhile) stays while GitHub still has it, and
// leaves only when GitHub answers that it is gone.
func TestOpenRecheckAsksBeforeDropping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer int // for GET /repos/o/r/issues/1
		stays  bool
	}{
		{"shifted between pages", http.StatusOK, true},
		{"deleted", http.StatusGone, false},
		{"not found", http.StatusNotFound, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			clk := clocktesting.NewFakeClock(time.Now())
			c := fakeClient(t, f, clk.Now)
			ctx := context.Background()
			is, _, err := c.EnsureIssue(ctx, IssueRequest{Key: "k", Title: "T"})
			if err != nil {
				t.Fatal(err)
			}
			var asked atomic.Int32
			f.handler = func(w http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.URL.Path == "/repos/o/r/issues":
					// Neither the open issues' pages nor the changes show it.
					_, _ = w.Write([]byte("[]"))
					return true
				case r.URL.Path == "/repos/o/r/issues/1":
					asked.Add(1)
					if tc.answer != http.StatusOK {
						w.WriteHeader(tc.answer)
						_, _ = w.Write([]byte(`{"message":"This issue was deleted"}`))
						return true
					}
					f.mu.Lock()
					b, _ := json.Marshal(f.issues[0])
					f.mu.Unlock()
					_, _ = w.Write(b)
					return true
				}
				return false
			}
			clk.Step(OpenRecheck)
			// Another journey's client of the repository: it shares the
			// index, not the first client's memory of what it created.
			other, err := New(Config{Owner: "o", Repo: "r", APIURL: f.URL(), Credentials: c.cfg.Credentials, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			m, err := other.Issues(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if asked.Load() != 1 {
				t.Errorf("GitHub was asked %d times about the issue missing from the listing, want once", asked.Load())
			}
			if _, ok := m["k"]; ok != tc.stays {
				t.Errorf("issue #%d held after the recheck: %v, want %v", is.Number, ok, tc.stays)
			}
		})
	}
}

// TestFailedRefreshIsNotShared: a refresh that failed does not answer the
// callers that waited for it; the next one asks GitHub again.
func TestFailedRefreshIsNotShared(t *testing.T) {
	f := newFakeGitHub(t)
	c := fakeClient(t, f, nil)
	ctx := context.Background()
	if _, err := c.Issues(ctx); err != nil {
		t.Fatal(err)
	}
	var fail atomic.Bool
	fail.Store(true)
	f.handler = func(w http.ResponseWriter, r *http.Request) bool {
		if fail.Load() && r.Method == http.MethodGet {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	x := c.index
	x.mu.RLock()
	ticket := x.started
	x.mu.RUnlock()
	if err := x.refresh(ctx, c, true); err == nil {
		t.Fatal("a refresh against a failing GitHub succeeded")
	}
	fail.Store(false)
	// A caller that asked before the failed refresh began must not take it
	// as its answer.
	x.mu.Lock()
	started := x.started
	x.mu.Unlock()
	if started <= ticket {
		t.Fatal("the failed refresh was not counted as begun")
	}
	before := len(f.logged())
	x.mu.Lock()
	x.started = ticket // as seen by a caller that asked before it
	x.mu.Unlock()
	if err := x.refresh(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	if len(f.logged()) == before {
		t.Error("the caller took the failed refresh as its answer: no request sent")
	}
}

// TestRunningRefreshIsWaitedFor: a caller told of a change while a refresh
// that began after that change is still running waits for it, rather than
// taking the index for fresh because that refresh already cleared the
// change's mark.
func TestRunningRefreshIsWaitedFor(t *testing.T) {
	f := newFakeGitHub(t)
	c := fakeClient(t, f, nil)
	ctx := context.Background()
	if _, err := c.Issues(ctx); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo)
	var blocked atomic.Bool
	blocked.Store(true)
	f.handler = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && blocked.Load() {
			blocked.Store(false)
			close(entered)
			<-release
		}
		return false
	}
	c.Invalidate() // a webhook's news
	first := make(chan error, 1)
	go func() { _, err := c.Issues(ctx); first <- err }()
	<-entered // the refresh runs, the mark is cleared
	second := make(chan error, 1)
	go func() { _, err := c.Issues(ctx); second <- err }()
	select {
	case <-second:
		t.Fatal("a caller took the index for fresh while the refresh for its news was still running")
	case <-time.After(200 * time.Millisecond):
	}
	letGo()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

// TestMaxAgeIsTheCallersButNeverLessThanTheFloor: a phase polling every
// five minutes accepts a view 2.5 minutes old, so that many phases on one
// repository cost two refreshes per interval; a caller asking for less
// than indexFreshFor (or nothing) gets indexFreshFor.
func TestMaxAgeIsTheCallersButNeverLessThanTheFloor(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		ctx  context.Context
		want time.Duration
	}{
		{ctx, indexFreshFor},
		{WithMaxAge(ctx, time.Second), indexFreshFor},
		{WithMaxAge(ctx, -time.Minute), indexFreshFor},
		{WithMaxAge(ctx, 150*time.Second), 150 * time.Second},
	} {
		if got := maxAgeOf(tc.ctx); got != tc.want {
			t.Errorf("maxAgeOf = %v, want %v", got, tc.want)
		}
	}
	// The age decides: an index refreshed 30s ago is fresh for a caller
	// accepting a minute, and stale for one accepting the floor.
	x := &issueIndex{loaded: true, refreshedAt: time.Now().Add(-30 * time.Second), entries: map[int]*indexEntry{}, refreshing: make(chan struct{}, 1)}
	c := &Client{now: time.Now}
	x.openAt = time.Now()
	if err := x.refresh(WithMaxAge(ctx, time.Minute), c, false); err != nil {
		t.Errorf("a view 30s old refreshed for a caller accepting a minute: %v", err)
	}
}

// TestKnownIssuesAskOnlyWhenChanged: a caller that only waits reads the
// index as it stands, however old, without a request; a webhook's news of
// a change, or the open issues falling due for their whole listing, make
// it ask. Issues, meanwhile, refreshes a view older than indexFreshFor.
func TestKnownIssuesAskOnlyWhenChanged(t *testing.T) {
	f := newFakeGitHub(t)
	clk := clocktesting.NewFakeClock(time.Now())
	c := fakeClient(t, f, clk.Now)
	ctx := context.Background()
	listings := func() int { return issueListings(f) }
	age := func() {
		c.index.mu.Lock()
		c.index.refreshedAt = c.index.refreshedAt.Add(-time.Hour) // long past indexFreshFor
		c.index.mu.Unlock()
	}
	known := func(why string, wantAsked bool) {
		t.Helper()
		before := listings()
		m, err := c.KnownIssues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m["k"]; !ok {
			t.Errorf("%s: KnownIssues lost issue k: %v", why, m)
		}
		if asked := listings() > before; asked != wantAsked {
			t.Errorf("%s: KnownIssues listed the issues: %v, want %v", why, asked, wantAsked)
		}
	}
	if _, err := c.KnownIssues(ctx); err != nil || listings() != 1 {
		t.Fatalf("KnownIssues of an index never loaded: %d listings (err %v), want 1 (one page is read at once: no second look)", listings(), err)
	}
	if _, _, err := c.EnsureIssue(ctx, IssueRequest{Key: "k", Title: "T"}); err != nil {
		t.Fatal(err)
	}
	age()
	known("an old view, nothing changed", false)
	known("again", false)
	before := listings()
	if _, err := c.Issues(ctx); err != nil || listings() == before {
		t.Errorf("Issues on a view older than indexFreshFor listed nothing (err %v)", err)
	}
	age()
	InvalidateRepository("o", "r", 0)
	known("a webhook said the repository changed", true)
	age()
	known("the change seen", false)
	clk.Step(OpenRecheck)
	known("the open issues due for their whole listing", true)
}

// TestDeliveriesLengthenTheViewsLife: while webhook deliveries arrive for
// a repository they say what changed, so a view 30s old still serves a
// polling caller (up to webhookMaxAge); without deliveries it would be
// refreshed after indexFreshFor. A delivery's own mark still refreshes.
func TestDeliveriesLengthenTheViewsLife(t *testing.T) {
	ctx := context.Background()
	c := &Client{now: time.Now}
	x := &issueIndex{loaded: true, refreshedAt: time.Now().Add(-30 * time.Second), openAt: time.Now(),
		entries: map[int]*indexEntry{}, refreshing: make(chan struct{}, 1), deliveredAt: time.Now().Add(-time.Minute)}
	if err := x.refresh(ctx, c, false); err != nil {
		t.Errorf("a view 30s old, deliveries arriving: refreshed (%v)", err)
	}
	if err := x.refresh(WithMaxAge(ctx, 10*time.Second), c, false); err != nil {
		t.Errorf("a view 30s old, deliveries arriving, a caller polling every 20s: refreshed (%v)", err)
	}
	for _, tc := range []struct {
		ask, want time.Duration
	}{{time.Second, 12 * time.Second}, {5 * time.Second, time.Minute}, {10 * time.Second, webhookMaxAge}, {time.Hour, webhookMaxAge}, {0, webhookMaxAge}} {
		if got := trustedAgeOf(WithMaxAge(ctx, tc.ask)); got != tc.want {
			t.Errorf("trustedAgeOf(%v) = %v, want %v", tc.ask, got, tc.want)
		}
	}
	// Marked changed by a delivery: the next caller asks GitHub (here a
	// client without a connection, so the attempt shows as a panic).
	x.dirty = true
	asked := func() (asked bool) {
		defer func() { asked = recover() != nil }()
		_ = x.refresh(ctx, c, false)
		return false
	}
	if !asked() {
		t.Error("a view a delivery marked changed was not refreshed")
	}
	// Deliveries stopped long ago: polling decides again.
	y := &issueIndex{loaded: true, refreshedAt: time.Now().Add(-30 * time.Second), openAt: time.Now(),
		entries: map[int]*indexEntry{}, refreshing: make(chan struct{}, 1), deliveredAt: time.Now().Add(-webhookTrust - time.Second)}
	x = y
	if !asked() {
		t.Error("a view 30s old, no recent delivery: not refreshed")
	}
}

// TestIssuesNowAsksHoweverFresh: IssuesNow lists what changed even while
// the view is fresh, for a caller about to act for good on an issue's
// absence; Issues within indexFreshFor does not.
func TestIssuesNowAsksHoweverFresh(t *testing.T) {
	f := newFakeGitHub(t)
	c := fakeClient(t, f, time.Now)
	ctx := context.Background()
	listings := func() int { return issueListings(f) }
	if _, err := c.Issues(ctx); err != nil {
		t.Fatal(err)
	}
	before := listings()
	if _, err := c.Issues(ctx); err != nil || listings() != before {
		t.Fatalf("Issues on a fresh view listed %d times (err %v), want none", listings()-before, err)
	}
	if _, err := c.IssuesNow(ctx); err != nil || listings() == before {
		t.Errorf("IssuesNow on a fresh view listed nothing (err %v)", err)
	}
}

// issueListings counts the listings of o/r's issues the fake GitHub answered.
func issueListings(f *fakeGitHub) int {
	n := 0
	for _, l := range f.logged() {
		if strings.HasPrefix(l, "GET /repos/o/r/issues ") {
			n++
		}
	}
	return n
}
