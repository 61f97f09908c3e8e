package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// jsonStore keeps each budget as its JSON, merged with what was saved.
type jsonStore struct {
	mu    sync.Mutex
	saved map[string][]byte
	now   func() time.Time
}

func (s *jsonStore) Load(_ context.Context, key string) (tracker.BudgetRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec tracker.BudgetRecord
	if b, ok := s.saved[key]; ok {
		return rec, json.Unmarshal(b, &rec)
	}
	return rec, nil
}

func (s *jsonStore) Save(ctx context.Context, key string, rec tracker.BudgetRecord) error {
	old, err := s.Load(ctx, key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(rec.Merge(old, s.now()))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved[key] = b
	return nil
}

func (s *jsonStore) only(t *testing.T) tracker.BudgetRecord {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) != 1 {
		t.Fatalf("%d budgets saved, want 1", len(s.saved))
	}
	for _, b := range s.saved {
		var rec tracker.BudgetRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	return tracker.BudgetRecord{}
}

// TestBudgetStoreAcrossRestarts: over real HTTP, a Retry-After GitHub
// announced is saved before the request that met it returns, and a Client
// of the next process sends nothing inside it; the writes of the earlier
// process count in the next one's budget before anything is sent.
func TestBudgetStoreAcrossRestarts(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	store := &jsonStore{saved: map[string][]byte{}, now: e.clk.Now}
	tracker.UseBudgetStore(store)
	t.Cleanup(func() { tracker.UseBudgetStore(nil); tracker.ForgetBudgets() })
	ctx := context.Background()
	perMinute := func(c *tracker.Config) { c.WritesPerMinute = 60 }

	e.srv.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/*/*/issues", Kind: localgithub.SecondaryLimit,
		Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})
	_, _, err := e.client(perMinute).EnsureIssue(ctx, req("checkout/payment"))
	var rl *tracker.RateLimitError
	if !errors.As(err, &rl) || !rl.Secondary {
		t.Fatalf("EnsureIssue = %v, want the secondary limit", err)
	}
	saved := store.only(t)
	if want := e.clk.Now().Add(30 * time.Second); saved.BlockedUntil.Before(want) {
		t.Fatalf("saved wait until %s, want %s or later", saved.BlockedUntil, want)
	}

	// A restart: the next process's Client sends nothing inside the window.
	tracker.ForgetBudgets()
	c := e.client(perMinute)
	before := e.requestCount()
	if d := c.WriteDelay("phase/a"); d < 29*time.Second {
		t.Errorf("WriteDelay after the restart = %s, want the rest of the 30s window", d)
	}
	if _, _, err := c.EnsureIssue(ctx, req("checkout/payment")); !errors.As(err, &rl) || !tracker.NotCreated(err) {
		t.Fatalf("inside the window: %v, want a rate limit, nothing created", err)
	}
	if sent := e.requestsSince(before); len(sent) != 0 {
		t.Fatalf("%d requests inside the announced window: %+v", len(sent), sent)
	}

	// After it, writes go out until the budget says wait; they count in
	// the next process's budget before it sends anything.
	e.clk.Step(31 * time.Second)
	written := 0
	for c.WriteDelay("phase/a") == 0 && written < 30 {
		if _, _, err := c.EnsureIssue(ctx, req(fmt.Sprintf("checkout/step-%d", written))); err != nil {
			t.Fatalf("write %d: %v", written, err)
		}
		written++
	}
	tracker.ForgetBudgets()
	c = e.client(perMinute)
	before = e.requestCount()
	if d := c.WriteDelay("phase/a"); d <= 0 {
		t.Errorf("WriteDelay after the restart = %s: the %d writes saved do not count (saved: %+v)", d, written, store.only(t))
	}
	_, _, err = c.EnsureIssue(ctx, req("checkout/shipping"))
	if !errors.As(err, &rl) || !rl.Budget {
		t.Fatalf("a write right after the restart: %v, want the budget spent", err)
	}
	for _, r := range e.requestsSince(before) {
		if r.Method != http.MethodGet {
			t.Errorf("a write was sent although the budget was spent before the restart: %s %s", r.Method, r.Path)
		}
	}
	writes := len(store.only(t).Writes)
	t.Logf("saved wait %s after the 429; %d writes saved before the last restart (label and issues)", saved.BlockedUntil.Sub(e.clk.Now().Add(-31*time.Second)).Round(time.Second), writes)
}
