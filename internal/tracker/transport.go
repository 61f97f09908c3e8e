package tracker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// ---------------------------------------------------------------------------
// metricsTransport: the bottom layer, sees every real request (including
// GitHub App token requests).

type metricsTransport struct{ next http.RoundTripper }

func (t *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		requestsTotal.WithLabelValues(req.Method, "error").Inc()
		return nil, err
	}
	requestsTotal.WithLabelValues(req.Method, strconv.Itoa(resp.StatusCode)).Inc()
	if v := resp.Header.Get("X-RateLimit-Remaining"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			rateLimitRemaining.Set(float64(n))
		}
	}
	return resp, nil
}

// ---------------------------------------------------------------------------
// tokenTransport adds a token to requests for the API host only.

type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

func identityOf(c Credentials) string {
	if c.Token != "" {
		sum := sha256.Sum256([]byte(c.Token))
		return "token:" + hex.EncodeToString(sum[:8])
	}
	// The App and installation IDs are public: the key's digest tells a
	// tenant's Secret naming another's App apart from that App's own.
	sum := sha256.Sum256(c.PrivateKey)
	return fmt.Sprintf("app:%d:%d:%s", c.AppID, c.InstallationID, hex.EncodeToString(sum[:8]))
}

// sameOrigin refuses a redirect away from the API's scheme and host: the
// credentials of every hop would follow it.
func sameOrigin(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host {
			return errors.New("refusing to follow a redirect away from the API host: the credentials would follow it")
		}
		return nil
	}
}

// ---------------------------------------------------------------------------
// limitState is shared by every Client using the same API host and identity,
// since GitHub counts rate limits per token / installation.

type limitState struct {
	mu        sync.Mutex
	resumeAt  time.Time
	secondary bool
	message   string
	// perMinute and perHour are cxloop's write budget, after GitHub's
	// documented limits on content-creating requests: at most 80 a minute
	// and 500 an hour per token. Every Client with the same identity (every
	// journey using the token) spends the same budget.
	perMinute, perHour *writeWindow
	budgetKey          string

	// gate lets writes go one at a time and alone, as GitHub asks of
	// content-creating requests, and reads go together but never beside a
	// write: when a write is answered with a limit, nothing else of this
	// token's is on its way to be sent while told to wait.
	gate *semaphore.Weighted
	// remaining is X-RateLimit-Remaining of the latest answer (-1: not
	// known) until windowReset; inFlight counts the requests on their way.
	// A request that could overdraw the primary budget waits for the reset.
	remaining   int
	windowReset time.Time
	inFlight    int
	// slots holds each waiting caller's place in line: when it may come
	// back to write; see writeDelay.
	slots map[string]time.Time
	// granted is the waiter last told it may write now, until grantedUntil
	// or until a write is reserved: the others are told to wait meanwhile,
	// so that two phases told "now" at once do not both record an attempt
	// for the one write (the loser's attempt taken back is two status
	// writes for nothing).
	granted      string
	grantedUntil time.Time

	// pending is when the write on its way was reserved (zero: none).
	pending time.Time
	// loadMu serialises loading from the BudgetStore, loadedFrom is the
	// store loaded from; saveMu keeps saves in order, saveTimer is the
	// debounced save after a write's answer.
	loadMu     sync.Mutex
	loadedFrom BudgetStore
	saveMu     sync.Mutex
	saveTimer  *time.Timer
	// savedPending is the pending write of this process's latest save to
	// a SharedBudgetStore, or the one it loaded: found there again, it is
	// not another's to count.
	savedPending time.Time
	// absorbed are the other processes' writes in the windows, as the
	// latest absorb found them.
	absorbed []time.Time
}

// gateWeight is what a write takes of the gate: all of it.
const gateWeight = 64

var (
	limitStatesMu sync.Mutex
	limitStates   = map[string]*limitState{}
)

func sharedLimitState(key string, writesPerMinute, writesPerHour int) *limitState {
	limitStatesMu.Lock()
	defer limitStatesMu.Unlock()
	if s, ok := limitStates[key]; ok {
		return s
	}
	s := newLimitState(key, writesPerMinute, writesPerHour)
	limitStates[key] = s
	return s
}

func newLimitState(key string, writesPerMinute, writesPerHour int) *limitState {
	return &limitState{
		// Writes paced over the minute; the hour's may all go at the
		// minute's pace.
		perMinute: newWriteWindow("minute", writesPerMinute, time.Minute, true),
		perHour:   newWriteWindow("hour", writesPerHour, time.Hour, false),
		budgetKey: key,
		gate:      semaphore.NewWeighted(gateWeight),
		remaining: -1,
	}
}

func (s *limitState) check(now time.Time) *RateLimitError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.resumeAt) {
		return &RateLimitError{ResumeAt: s.resumeAt, Secondary: s.secondary, Message: s.message}
	}
	return nil
}

// depart counts a request on its way, unless the primary budget left may
// not cover it and the ones already on their way.
func (s *limitState) depart(now time.Time) *RateLimitError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remaining >= 0 && now.Before(s.windowReset) && s.inFlight >= s.remaining {
		return &RateLimitError{ResumeAt: s.windowReset, Message: "API rate limit nearly exhausted"}
	}
	s.inFlight++
	return nil
}

// arrive records the answer's primary budget.
func (s *limitState) arrive(remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	if remaining >= 0 && !reset.IsZero() {
		s.remaining, s.windowReset = remaining, reset
	}
}

func (s *limitState) block(until time.Time, secondary bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.resumeAt) {
		s.resumeAt, s.secondary, s.message = until, secondary, msg
	}
}

// writeDelay is how long until waiter (a phase, a journey) may send a
// write: a rate limit in force or a spent write budget. It reserves
// nothing.
//
// Waiters told to wait get successive slots, one write apart: hundreds of
// phases waiting on one token would otherwise all come back at the same
// instant, for one of them to write and the rest to wait again. A waiter
// keeps its place when it asks again before its slot (a sync, a webhook),
// so that asking does not push the line back and leave slots unused; one
// whose slot came while another took the write goes next.
func (s *limitState) writeDelay(now time.Time, waiter string) time.Duration {
	return s.delayFor(now, waiter, false)
}

// waitsInLine reports whether waiter still waits for its turn, without
// giving it up when its turn has come: a caller that only looks before it
// decides what to read keeps its place for the write that follows.
func (s *limitState) waitsInLine(now time.Time, waiter string) bool {
	return s.delayFor(now, waiter, true) > 0
}

func (s *limitState) delayFor(now time.Time, waiter string, look bool) time.Duration {
	var d time.Duration
	if rl := s.check(now); rl != nil {
		d = rl.ResumeAt.Sub(now)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer recordBudget(s, now)
	every := time.Duration(0) // one write of the slowest window that holds writes back
	for _, w := range []*writeWindow{s.perMinute, s.perHour} {
		if wd := w.delay(now); wd > 0 {
			d = max(d, wd)
			every = max(every, w.interval())
		}
	}
	if d <= 0 && s.granted != "" && s.granted != waiter && now.Before(s.grantedUntil) {
		// Another was told "now" and is on its way to write: after it.
		d = min(s.grantedUntil.Sub(now), max(s.perMinute.interval(), time.Second/10))
		every = max(every, s.perMinute.interval())
	}
	slot, held := s.slots[waiter]
	if d <= 0 {
		if !look {
			delete(s.slots, waiter)
			s.granted, s.grantedUntil = waiter, now.Add(grantHold)
		}
		return 0
	}
	d = max(d, time.Second/10) // not for the microseconds a rounding leaves
	switch {
	case held && slot.After(now):
		return slot.Sub(now) // its place in line
	case look:
		return d // its turn came: the write it asks for next keeps it
	case held:
		s.slots[waiter] = now.Add(d) // its slot came and went to another: next
		return d
	}
	// A new waiter: after the last slot held, dropping the slots of
	// waiters that never came back (a phase deleted or completed).
	at := now.Add(d)
	for w, t := range s.slots {
		if now.Sub(t) > time.Minute {
			delete(s.slots, w)
		} else if t.Add(max(every, time.Millisecond)).After(at) {
			at = t.Add(max(every, time.Millisecond))
		}
	}
	if s.slots == nil {
		s.slots = map[string]time.Time{}
	}
	s.slots[waiter] = at
	return at.Sub(now)
}

// reserveWrite spends one write of the budget, or says when one is due.
func (s *limitState) reserveWrite(now time.Time) *RateLimitError {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer recordBudget(s, now)
	var late *writeWindow
	var d time.Duration
	for _, w := range []*writeWindow{s.perMinute, s.perHour} {
		if wd := w.delay(now); wd > d {
			late, d = w, wd
		}
	}
	if late != nil {
		return late.spentError(now, d)
	}
	s.perMinute.take(now)
	s.perHour.take(now)
	s.pending = now
	s.granted = ""
	return nil
}

// grantHold is how long a waiter told it may write now holds the write for
// itself: long enough to record its attempt and send it.
const grantHold = 2 * time.Second

// settleWrite moves the write just sent to when its answer came (or its
// request failed), which is no earlier than GitHub received it: a write
// slow on its way must not let one more into GitHub's window. Writes go
// one at a time (the gate), so the newest write is this one.
func (s *limitState) settleWrite(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perMinute.settle(at)
	s.perHour.settle(at)
	s.pending = time.Time{}
}

// ensureLoaded restores the budget saved in the BudgetStore, once per
// store, before this token's first request.
func (s *limitState) ensureLoaded(ctx context.Context, now time.Time) error {
	store := currentBudgetStore()
	if store == nil {
		return nil
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.loadedFrom == store {
		return nil
	}
	rec, err := store.Load(ctx, BudgetStoreKey(s.budgetKey))
	if err != nil {
		return fmt.Errorf("loading the write budget: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restore(rec, now)
	s.savedPending = rec.Pending // counted now: found again on a save, it is no other's
	s.loadedFrom = store
	return nil
}

// restore adds a saved record to the windows; s.mu is held. A write whose
// answer was never recorded counts as sent now: it reached GitHub, if at
// all, before the process that reserved it ended.
func (s *limitState) restore(rec BudgetRecord, now time.Time) {
	saved := rec.Writes
	if !rec.Pending.IsZero() {
		saved = append(slices.Clone(saved), later(now, rec.Pending))
	}
	all := mergeWrites(s.writes(), saved, now)
	s.perMinute = newWriteWindow(s.perMinute.name, s.perMinute.limit, s.perMinute.span, s.perMinute.pace != nil)
	s.perHour = newWriteWindow(s.perHour.name, s.perHour.limit, s.perHour.span, s.perHour.pace != nil)
	for _, t := range all {
		s.perMinute.take(t)
		s.perHour.take(t)
	}
	if rec.BlockedUntil.After(s.resumeAt) {
		s.resumeAt, s.secondary, s.message = rec.BlockedUntil, rec.Secondary, rec.Message
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// writes are the writes the windows remember; s.mu is held.
func (s *limitState) writes() []time.Time {
	w := s.perHour
	if len(s.perMinute.sent) > len(w.sent) {
		w = s.perMinute
	}
	return slices.Clone(w.sent)
}

// snapshot is the record to save; s.mu is held.
func (s *limitState) snapshot(now time.Time) BudgetRecord {
	rec := BudgetRecord{Pending: s.pending}
	if s.resumeAt.After(now) {
		rec.BlockedUntil, rec.Secondary, rec.Message = s.resumeAt, s.secondary, s.message
	}
	pendingLeft := !s.pending.IsZero()
	for _, t := range s.writes() {
		if now.Sub(t) >= time.Hour {
			continue
		}
		if pendingLeft && t.Equal(s.pending) {
			pendingLeft = false // saved as Pending, once
			continue
		}
		rec.Writes = append(rec.Writes, t)
	}
	slices.SortFunc(rec.Writes, func(x, y time.Time) int { return x.Compare(y) })
	return rec
}

// save writes the budget to the BudgetStore, if there is one.
func (s *limitState) save(ctx context.Context, now func() time.Time) error {
	_, _, err := s.saveShared(ctx, now)
	return err
}

// saveShared is save; with a SharedBudgetStore it also returns what the
// other processes had saved (shared true), less this process's own
// pending write.
func (s *limitState) saveShared(ctx context.Context, now func() time.Time) (others BudgetRecord, shared bool, err error) {
	store := currentBudgetStore()
	if store == nil {
		return others, false, nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	rec := s.snapshot(now())
	ownPending := s.savedPending
	s.mu.Unlock()
	ss, ok := store.(SharedBudgetStore)
	if !ok {
		return others, false, store.Save(ctx, BudgetStoreKey(s.budgetKey), rec)
	}
	if others, err = ss.SaveShared(ctx, BudgetStoreKey(s.budgetKey), rec); err != nil {
		return others, false, err
	}
	s.mu.Lock()
	s.savedPending = rec.Pending
	s.mu.Unlock()
	if !others.Pending.IsZero() && ceilMilli(others.Pending) == ceilMilli(ownPending) {
		others.Pending = time.Time{} // this process's write before, in its windows already
	}
	return others, true, nil
}

// absorb brings the writes (and any wait) other processes saved into this
// process's windows, the write just reserved at now among them, and says
// whether that write would overdraw the budget they share: then it is
// taken back and not sent. The store holds this process's writes too: the
// others' are what it holds beyond them. Another's pending write counts
// from when it was reserved.
func (s *limitState) absorb(others BudgetRecord, now time.Time) *RateLimitError {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := subtractWrites(s.writes(), s.absorbed)
	theirs := subtractWrites(others.Writes, own)
	if !others.Pending.IsZero() {
		theirs = append(theirs, others.Pending)
	}
	fresh := len(subtractWrites(theirs, s.absorbed)) // the others' writes since the latest absorb
	s.absorbed = theirs
	if others.BlockedUntil.After(s.resumeAt) {
		s.resumeAt, s.secondary, s.message = others.BlockedUntil, others.Secondary, others.Message
	}
	all := append(slices.Clone(own), theirs...)
	slices.SortFunc(all, func(x, y time.Time) int { return x.Compare(y) })
	var over *RateLimitError
	for _, w := range []*writeWindow{s.perMinute, s.perHour} {
		inSpan := 0
		for _, t := range all {
			if now.Sub(t) < w.span {
				inSpan++
			}
		}
		if inSpan > w.limit && over == nil {
			over = w.spentError(now, w.interval())
		}
	}
	if over != nil {
		all = subtractWrites(all, []time.Time{now}) // taken back: not sent
		s.pending = time.Time{}
	}
	// The windows anew, their pace as it was, spent further by the
	// others' fresh writes: rebuilt, it would count the hour's writes as
	// one burst.
	minutePace, hourPace := s.perMinute.pace, s.perHour.pace
	s.perMinute = newWriteWindow(s.perMinute.name, s.perMinute.limit, s.perMinute.span, false)
	s.perHour = newWriteWindow(s.perHour.name, s.perHour.limit, s.perHour.span, false)
	for _, t := range all {
		if now.Sub(t) < time.Hour {
			s.perMinute.take(t)
			s.perHour.take(t)
		}
	}
	s.perMinute.pace, s.perHour.pace = minutePace, hourPace
	for _, p := range []*rate.Limiter{minutePace, hourPace} {
		for i := 0; p != nil && i < fresh; i++ {
			p.ReserveN(now, 1) // one at a time: more than the burst at once is refused
		}
	}
	return over
}

// subtractWrites is a less b, to the millisecond (rounded up), each write
// of b taking away one of a.
func subtractWrites(a, b []time.Time) []time.Time {
	drop := map[int64]int{}
	for _, t := range b {
		drop[ceilMilli(t)]++
	}
	var out []time.Time
	for _, t := range a {
		if k := ceilMilli(t); drop[k] > 0 {
			drop[k]--
			continue
		}
		out = append(out, t)
	}
	return out
}

// saveSoon saves the budget within budgetSaveDelay, once for a burst.
func (s *limitState) saveSoon(now func() time.Time) {
	if currentBudgetStore() == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveTimer != nil {
		return
	}
	s.saveTimer = time.AfterFunc(budgetSaveDelay, func() {
		s.mu.Lock()
		s.saveTimer = nil
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.save(ctx, now) // a failure leaves the write pending: counted later, never lost
	})
}

// limitTransport refuses to send anything while a rate limit is in force,
// spends the write budget without ever waiting for it (the caller is told
// when to come back, so no worker sleeps), and recognises primary and
// secondary limits answered with 403 or 429.
type limitTransport struct {
	next  http.RoundTripper
	state *limitState
	now   func() time.Time
	host  string // only this host may receive credentials,
	// over this scheme (no https to http downgrade on a redirect)
	scheme string
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host || (t.scheme != "" && req.URL.Scheme != t.scheme) {
		closeReqBody(req)
		return nil, fmt.Errorf("refusing to send credentials to host %q (API host is %q)", req.URL.Host, t.host)
	}
	// A write that follows a redirect (GitHub answers 307 for a renamed
	// repository's old name) is the same write: it was counted at its
	// first hop, and GitHub makes one issue or comment of it.
	write := isWrite(req.Method) && req.Response == nil
	weight := int64(1)
	if write {
		weight = gateWeight
	}
	if err := t.state.gate.Acquire(req.Context(), weight); err != nil {
		closeReqBody(req)
		return nil, err
	}
	defer t.state.gate.Release(weight)
	if err := t.state.ensureLoaded(req.Context(), t.now()); err != nil {
		closeReqBody(req)
		return nil, &notSentError{err}
	}
	now := t.now()
	if err := t.state.check(now); err != nil {
		closeReqBody(req)
		return nil, err
	}
	if write {
		if err := t.state.reserveWrite(now); err != nil {
			closeReqBody(req)
			return nil, err
		}
		// Reserved, saved, then sent: a crash after this counts the write
		// in the next process's budget.
		others, shared, err := t.state.saveShared(req.Context(), t.now)
		if err != nil {
			t.state.settleWrite(now) // counted, not sent: it costs one write
			closeReqBody(req)
			return nil, &notSentError{&errBudgetNotSaved{err}}
		}
		// Other shards spend the same budget: the later of two writes
		// saved at once sees the earlier, and waits if it would overdraw.
		if shared {
			if rl := t.state.absorb(others, now); rl != nil {
				closeReqBody(req)
				return nil, rl
			}
		}
		if err := sendByPassed(req.Context()); err != nil {
			t.state.settleWrite(now) // counted, not sent
			closeReqBody(req)
			return nil, &notSentError{err}
		}
	}
	if err := t.state.depart(now); err != nil {
		if write {
			t.state.settleWrite(now) // counted, not sent
		}
		closeReqBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if write {
		t.state.settleWrite(t.now())
		t.state.saveSoon(t.now)
	}
	if err != nil {
		t.state.arrive(-1, time.Time{})
		return nil, err
	}
	remaining, reset := primaryBudget(resp.Header)
	t.state.arrive(remaining, reset)
	return t.inspect(resp, remaining, reset)
}

// primaryBudget reads an answer's primary rate limit: what remains (-1 when
// not said) and when the window resets. The reset is given in whole seconds
// and the window ends within that second: resume just after it, never a
// moment too early.
func primaryBudget(h http.Header) (remaining int, reset time.Time) {
	remaining = -1
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining"))); err == nil {
		remaining = n
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && n > 0 {
		reset = time.Unix(n, 0).Add(time.Second)
	}
	return remaining, reset
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			n = 0
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func (t *limitTransport) inspect(resp *http.Response, remaining int, reset time.Time) (*http.Response, error) {
	now := t.now()
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var eb struct {
			Message string `json:"message"`
			Doc     string `json:"documentation_url"`
		}
		_ = json.Unmarshal(body, &eb)
		lower := strings.ToLower(eb.Message + " " + eb.Doc)
		retryAfter, hasRetryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		primary := remaining == 0
		secondary := hasRetryAfter || resp.StatusCode == http.StatusTooManyRequests ||
			strings.Contains(lower, "secondary rate limit") || strings.Contains(lower, "secondary-rate-limit") ||
			strings.Contains(lower, "abuse")
		if primary || secondary {
			var resume time.Time
			isSecondary := !primary
			if primary {
				resume = reset
				if !resume.After(now) {
					resume = now.Add(time.Minute)
				}
			}
			if hasRetryAfter {
				if r := now.Add(retryAfter); r.After(resume) {
					resume = r
					isSecondary = true
				}
			}
			if resume.IsZero() {
				// Secondary limit without a hint: GitHub asks to wait at least a minute.
				resume = now.Add(time.Minute)
			}
			msg := eb.Message
			t.state.block(resume, isSecondary, msg)
			t.saveBlock(resp.Request)
			return nil, &RateLimitError{ResumeAt: resume, Secondary: isSecondary, Message: msg}
		}
		return resp, nil
	}
	if remaining == 0 && reset.After(now) {
		t.state.block(reset, false, "API rate limit exhausted")
		t.saveBlock(resp.Request)
		// go-github would otherwise block on its own, by the wall clock; keep one source of truth.
		resp.Header.Del("X-RateLimit-Reset")
	}
	return resp, nil
}

// saveBlock saves a limit GitHub just announced, before the request that
// met it returns: the next process must not send inside it.
func (t *limitTransport) saveBlock(req *http.Request) {
	ctx := context.Background()
	if req != nil {
		ctx = context.WithoutCancel(req.Context())
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := t.state.save(ctx, t.now); err != nil {
		t.state.saveSoon(t.now) // try again shortly
	}
}
