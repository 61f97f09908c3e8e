package tracker

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// memBudgetStore keeps records as their JSON, as the ConfigMap/Lease store
// does, merging a save with what was saved before.
type memBudgetStore struct {
	mu    sync.Mutex
	saved map[string][]byte
	now   func() time.Time
	saves int
}

func (m *memBudgetStore) Load(_ context.Context, key string) (BudgetRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rec BudgetRecord
	if b, ok := m.saved[key]; ok {
		return rec, json.Unmarshal(b, &rec)
	}
	return rec, nil
}

func (m *memBudgetStore) Save(ctx context.Context, key string, rec BudgetRecord) error {
	old, _ := m.Load(ctx, key)
	b, err := json.Marshal(rec.Merge(old, m.now()))
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saved == nil {
		m.saved = map[string][]byte{}
	}
	m.saved[key] = b
	m.saves++
	return nil
}

func TestBudgetRecordJSON(t *testing.T) {
	start := time.Date(2026, 12, 4, 18, 0, 0, 123456789, time.UTC)
	rec := BudgetRecord{Pending: start.Add(time.Hour), BlockedUntil: start.Add(2 * time.Hour), Secondary: true, Message: "You have exceeded a secondary rate limit"}
	for i := range 500 {
		rec.Writes = append(rec.Writes, start.Add(time.Duration(i)*7*time.Second+time.Duration(i)*time.Microsecond))
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("500 writes of an hour: %d bytes", len(b))
	if len(b) > 6000 {
		t.Errorf("500 writes take %d bytes, want a compact form", len(b))
	}
	var back BudgetRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Writes) != 500 || back.Secondary != rec.Secondary || back.Message != rec.Message {
		t.Fatalf("read back %d writes, %+v", len(back.Writes), back)
	}
	for i, w := range back.Writes {
		// Kept to the millisecond, never earlier than it was.
		if d := w.Sub(rec.Writes[i]); d < 0 || d >= time.Millisecond {
			t.Fatalf("write %d read back %s off", i, d)
		}
	}
	if back.BlockedUntil.Before(rec.BlockedUntil) || back.Pending.Before(rec.Pending) {
		t.Errorf("the wait or the pending write moved earlier: %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"v":2}`), &back); err == nil {
		t.Error("a record of an unknown version was read")
	}
}

// TestBudgetSurvivesRestarts drives one token's writes through a manager
// that crashes every few seconds (10 restarts in the first minute, then
// now and then for three hours), always with work waiting, some crashes
// landing between a write's request and its answer; once GitHub answers
// 429 with Retry-After and the process dies at once. Counted where GitHub
// counts them, no minute holds more than 60 writes and no hour more than
// 500, and nothing is sent inside the announced window. Without the store
// the same run exceeds the minute's budget: the test can fail.
func TestBudgetSurvivesRestarts(t *testing.T) {
	for _, withStore := range []bool{true, false} {
		start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		now := start
		clock := func() time.Time { return now }
		store := &memBudgetStore{now: clock}
		if withStore {
			UseBudgetStore(store)
		} else {
			UseBudgetStore(nil)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		var sent []time.Time
		var retryFrom, retryUntil time.Time
		insideRetry, restarts := 0, 0
		for now.Sub(start) < 3*time.Hour {
			// A new process: a fresh state, as after a restart.
			s := newBudget(60, 500, "https://api.github.com/ token:0123")
			restarts++
			life := time.Duration(2000+rng.IntN(4000)) * time.Millisecond // 10 restarts within the first minute
			if now.Sub(start) > time.Minute {
				life = time.Duration(1+rng.IntN(20)) * time.Minute
			}
			died := now.Add(life)
			now = now.Add(time.Duration(200+rng.IntN(300)) * time.Millisecond) // start-up
			if err := s.ensureLoaded(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			for now.Before(died) {
				if rl := s.check(now); rl != nil {
					now = rl.ResumeAt
					continue
				}
				if err := s.reserveWrite(now); err != nil {
					now = err.ResumeAt.Add(time.Duration(rng.IntN(100)) * time.Millisecond)
					continue
				}
				if err := s.save(context.Background(), clock); err != nil {
					t.Fatal(err)
				}
				rtt := time.Duration(50+rng.IntN(400)) * time.Millisecond
				arrives := now.Add(rtt / 2)
				sent = append(sent, arrives)
				if !retryFrom.IsZero() && !arrives.Before(retryFrom) && arrives.Before(retryUntil) {
					insideRetry++
				}
				if restarts == 5 && retryFrom.IsZero() {
					// GitHub answers this write 429, Retry-After: 30; the
					// process saves the window and dies at once.
					retryFrom, retryUntil = arrives, arrives.Add(30*time.Second)
					now = now.Add(rtt)
					s.settleWrite(now)
					s.block(retryUntil, true, "secondary rate limit")
					if err := s.save(context.Background(), clock); err != nil {
						t.Fatal(err)
					}
					break
				}
				if now.Add(rtt).After(died) {
					now = died // killed before the answer: the write stays pending
					break
				}
				now = now.Add(rtt)
				s.settleWrite(now)
				if withStore && rng.IntN(3) > 0 { // the debounced save, most of the time before the next write
					if err := s.save(context.Background(), clock); err != nil {
						t.Fatal(err)
					}
				}
			}
			now = later(now, died)
		}
		UseBudgetStore(nil)
		perMinute, perHour := MostWithin(sent, time.Minute), MostWithin(sent, time.Hour)
		t.Logf("store %v: %d restarts, %d writes in 3h, at most %d in a minute and %d in an hour, %d inside the Retry-After window, %d saves",
			withStore, restarts, len(sent), perMinute, perHour, insideRetry, store.saves)
		if withStore {
			if perMinute > 60 || perHour > 500 || insideRetry > 0 {
				t.Errorf("with the store: %d writes in a minute (limit 60), %d in an hour (limit 500), %d inside Retry-After", perMinute, perHour, insideRetry)
			}
			if len(sent) < 3*500*9/10 {
				t.Errorf("only %d writes in 3 hours: the budget is not spent", len(sent))
			}
		} else if perMinute <= 60 {
			t.Errorf("without the store the restarts stayed within the minute's budget (%d): the test proves nothing", perMinute)
		}
	}
}
