package tracker

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sharedMemBudgetStore is memBudgetStore that tells a saver what was
// stored before, as the manager's Lease store does for shards.
type sharedMemBudgetStore struct{ memBudgetStore }

func (m *sharedMemBudgetStore) SaveShared(ctx context.Context, key string, rec BudgetRecord) (BudgetRecord, error) {
	before, err := m.Load(ctx, key)
	if err != nil {
		return before, err
	}
	return before, m.Save(ctx, key, rec)
}

type answerCreated struct{}

func (answerCreated) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusCreated, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// TestShardsShareOneBudget: two processes (shards) write with one token at
// the same time, each with its own windows, loaded once. With a store that
// is shared, the writes of both that reach GitHub stay within the budget
// per minute and per hour; with one that is not, each process would spend
// the whole budget.
func TestShardsShareOneBudget(t *testing.T) {
	const perMinute, perHour = 60, 100
	for _, shared := range []bool{true, false} {
		start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		now := start
		clock := func() time.Time { return now }
		var store BudgetStore = &memBudgetStore{now: clock}
		if shared {
			store = &sharedMemBudgetStore{memBudgetStore{now: clock}}
		}
		UseBudgetStore(store)
		type shard struct {
			rt   *limitTransport
			next time.Time
		}
		var shards []*shard
		for range 2 {
			s := newLimitState("https://api.github.com/ token:0123", perMinute, perHour)
			shards = append(shards, &shard{rt: &limitTransport{next: answerCreated{}, state: s, now: clock, host: "api.github.com", scheme: "https"}})
		}
		rng := rand.New(rand.NewPCG(5, 6))
		var sent []time.Time
		for now.Sub(start) < 3*time.Minute {
			for _, i := range rng.Perm(len(shards)) {
				sh := shards[i]
				if now.Before(sh.next) {
					continue
				}
				req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/repos/o/r/issues", strings.NewReader("{}"))
				resp, err := sh.rt.RoundTrip(req)
				var rl *RateLimitError
				switch {
				case errors.As(err, &rl):
					sh.next = rl.ResumeAt
				case err != nil:
					t.Fatal(err)
				default:
					_ = resp.Body.Close()
					sent = append(sent, now)
				}
				// Two processes' writes in one millisecond count once in a
				// merge (mergeWrites): a real clock keeps them apart.
				now = now.Add(time.Duration(1+rng.IntN(5)) * time.Millisecond)
			}
			now = now.Add(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		}
		UseBudgetStore(nil)
		most := MostWithin(sent, time.Minute)
		t.Logf("shared store %v: two shards sent %d writes in 3 minutes, at most %d in any minute (budget %d a minute, %d an hour)", shared, len(sent), most, perMinute, perHour)
		if !shared {
			if len(sent) <= perHour {
				t.Errorf("without a shared store the shards were expected to overdraw the budget (the test shows nothing), sent %d", len(sent))
			}
			continue
		}
		if most > perMinute || len(sent) > perHour {
			t.Errorf("the shards overdrew the budget they share: %d in a minute, %d in the hour", most, len(sent))
		}
		if len(sent) < perHour*9/10 {
			t.Errorf("the shards sent %d writes of the hour's %d: the sharing costs too much", len(sent), perHour)
		}
	}
}
