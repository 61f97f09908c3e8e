package tracker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// BudgetStore keeps each token's write budget and GitHub's announced waits
// across restarts and failovers: a crash-looping manager that started with
// empty windows could exceed GitHub's limits, and would send requests inside
// a Retry-After window given to the process before it.
//
// A write is reserved, then saved, then sent: a write counted but never sent
// costs one write of the budget; one sent but not counted could not happen.
type BudgetStore interface {
	// Load returns what was saved under key; a zero record when nothing was.
	Load(ctx context.Context, key string) (BudgetRecord, error)
	// Save keeps rec under key. Implementations may merge it with what
	// another process saved (the union of the writes, the latest wait).
	Save(ctx context.Context, key string, rec BudgetRecord) error
}

// SharedBudgetStore is a BudgetStore that other processes save to at the
// same time: shards of cxloop, each reconciling its own journeys with one
// GitHub token, whose limits are the account's. A process loads the budget
// once, so without it each shard would spend the whole budget; with it,
// each write's save tells what the others had saved, and a write that
// would overdraw the budget they share is not sent.
type SharedBudgetStore interface {
	BudgetStore
	// SaveShared saves rec as Save does, and returns what was stored
	// before it (what rec was merged with).
	SaveShared(ctx context.Context, key string, rec BudgetRecord) (stored BudgetRecord, err error)
}

// BudgetRecord is what is kept of one token's budget. Its JSON form is
// compact (milliseconds since the first write), so that an hour of writes
// fits a few KiB.
type BudgetRecord struct {
	// Writes are the writes sent within the last hour, oldest first, at
	// the time their answer came (or their request failed).
	Writes []time.Time
	// Pending is when a write was reserved whose answer was not recorded:
	// it may have reached GitHub at any moment until the process ended, so
	// a process that loads it counts it as sent at the load. Zero: none.
	Pending time.Time
	// BlockedUntil is the end of a Retry-After or rate limit GitHub
	// announced; no request is sent before it.
	BlockedUntil time.Time
	// Secondary and Message describe that limit.
	Secondary bool
	Message   string
}

type budgetJSON struct {
	Version   int     `json:"v"`
	Base      int64   `json:"t0,omitempty"` // Unix milliseconds of the first write
	Deltas    []int64 `json:"d,omitempty"`  // each write's milliseconds after the one before (the first: after t0)
	Pending   int64   `json:"p,omitempty"`  // Unix milliseconds
	Until     int64   `json:"u,omitempty"`  // Unix milliseconds
	Secondary bool    `json:"s,omitempty"`
	Message   string  `json:"m,omitempty"`
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// MarshalJSON writes the compact form. Times are kept to the millisecond,
// rounded up so that a write never counts as earlier than it was.
func (r BudgetRecord) MarshalJSON() ([]byte, error) {
	j := budgetJSON{Version: 1, Pending: ceilMilli(r.Pending), Until: ceilMilli(r.BlockedUntil), Secondary: r.Secondary, Message: r.Message}
	prev := int64(0)
	for i, t := range r.Writes {
		ms := ceilMilli(t)
		if i == 0 {
			j.Base, prev = ms, ms
		}
		j.Deltas = append(j.Deltas, ms-prev)
		prev = ms
	}
	return json.Marshal(j)
}

func ceilMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// UnmarshalJSON reads the compact form.
func (r *BudgetRecord) UnmarshalJSON(b []byte) error {
	var j budgetJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Version != 1 {
		return fmt.Errorf("budget record of version %d, want 1", j.Version)
	}
	*r = BudgetRecord{Pending: fromMilli(j.Pending), BlockedUntil: fromMilli(j.Until), Secondary: j.Secondary, Message: j.Message}
	at := j.Base
	for _, d := range j.Deltas {
		at += d
		r.Writes = append(r.Writes, time.UnixMilli(at))
	}
	return nil
}

// Merge is what a store keeps when r is saved over stored (what another
// process, or this one, saved before): every write of either within the
// last hour, once; r's pending write (the saver's own: a pending write of
// stored is, as a rule, one of r's writes by now); the later wait.
func (r BudgetRecord) Merge(stored BudgetRecord, now time.Time) BudgetRecord {
	out := r
	o := stored
	out.Writes = mergeWrites(r.Writes, o.Writes, now)
	if o.BlockedUntil.After(out.BlockedUntil) {
		out.BlockedUntil, out.Secondary, out.Message = o.BlockedUntil, o.Secondary, o.Message
	}
	if !out.BlockedUntil.After(now) {
		out.BlockedUntil, out.Secondary, out.Message = time.Time{}, false, ""
	}
	return out
}

// mergeWrites is the sorted union of the writes within the last hour, to
// the millisecond (rounded up): a write both hold counts once, and writes
// in one millisecond count as often as either holds them.
func mergeWrites(a, b []time.Time, now time.Time) []time.Time {
	count := func(ts []time.Time) map[int64]int {
		n := map[int64]int{}
		for _, t := range ts {
			if now.Sub(t) < time.Hour {
				n[ceilMilli(t)]++
			}
		}
		return n
	}
	na, nb := count(a), count(b)
	for ms, n := range nb {
		na[ms] = max(na[ms], n)
	}
	var out []time.Time
	for ms, n := range na {
		for range n {
			out = append(out, time.UnixMilli(ms))
		}
	}
	slices.SortFunc(out, func(x, y time.Time) int { return x.Compare(y) })
	return out
}

// BudgetStoreKey is the key a budget is kept under: a hash of the API host
// and the token's identity (itself a hash, never the token), which is a
// valid Kubernetes object name and ConfigMap key.
func BudgetStoreKey(budgetKey string) string {
	sum := sha256.Sum256([]byte(budgetKey))
	return hex.EncodeToString(sum[:8])
}

var (
	budgetStoreMu sync.Mutex
	budgetStore   BudgetStore
)

// UseBudgetStore makes every token's budget (of every Client, as the
// budgets are shared per token) kept in store: loaded before a token's
// first request, saved before each write and at once after GitHub
// announces a limit. nil keeps budgets in memory only. Call it before the
// first Client sends anything.
func UseBudgetStore(store BudgetStore) {
	budgetStoreMu.Lock()
	defer budgetStoreMu.Unlock()
	budgetStore = store
}

func currentBudgetStore() BudgetStore {
	budgetStoreMu.Lock()
	defer budgetStoreMu.Unlock()
	return budgetStore
}

// budgetLoadTimeout bounds reading the saved budget when a write is
// planned (WriteDelay); budgetLoadRetry is how soon to plan again when it
// could not be read.
const (
	budgetLoadTimeout = 5 * time.Second
	budgetLoadRetry   = 5 * time.Second
)

// budgetSaveDelay is how long after a write's answer its settled time is
// saved, so that a burst of answers is one save. A crash before that
// counts the write as sent at the next load: later than it was, never
// earlier.
const budgetSaveDelay = time.Second

// errBudgetNotSaved: the budget could not be saved before a write, which
// is therefore not sent.
type errBudgetNotSaved struct{ err error }

func (e *errBudgetNotSaved) Error() string {
	return "the write was not sent: cxloop could not record it in its write budget: " + e.err.Error()
}
func (e *errBudgetNotSaved) Unwrap() error { return e.err }

type sendByKey struct{}

// WithSendBy marks ctx's writes as not to be sent from deadline on (by the
// real clock): a create decided by a process that was then paused past it
// (a leader stopped, its Lease taken over, resumed) is dropped, not sent,
// since another process may have made it meanwhile. The write fails as not
// sent (NotCreated).
func WithSendBy(ctx context.Context, deadline time.Time) context.Context {
	return context.WithValue(ctx, sendByKey{}, deadline)
}

// errSendByPassed: a write's WithSendBy deadline passed before it was sent.
type errSendByPassed struct{ late time.Duration }

func (e *errSendByPassed) Error() string {
	return fmt.Sprintf("the write was not sent: it was due %s ago, and another replica may have made it since (cxloop was paused or slow)", e.late.Round(time.Millisecond))
}

// sendByPassed says how late a write of ctx is, if its deadline passed.
func sendByPassed(ctx context.Context) error {
	if dl, ok := ctx.Value(sendByKey{}).(time.Time); ok {
		if late := time.Since(dl); late >= 0 {
			return &errSendByPassed{late: late}
		}
	}
	return nil
}

// SendByPassed reports whether err is a write dropped because its
// WithSendBy deadline had passed: the caller was paused or slow, and its
// view of the work may be stale.
func SendByPassed(err error) bool {
	var e *errSendByPassed
	return errors.As(err, &e)
}
