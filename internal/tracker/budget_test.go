package tracker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// budgetStart is when the budgets of these tests start.
var budgetStart = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// newBudget is a token's write budget of perMinute writes a minute and
// perHour an hour, kept under key.
func newBudget(perMinute, perHour int, key string) *limitState {
	return &limitState{perMinute: newWriteWindow("minute", perMinute, time.Minute, true),
		perHour: newWriteWindow("hour", perHour, time.Hour, false), budgetKey: key}
}

// spentBudget is GitHub's budget (60 writes a minute, 500 an hour) with
// the minute's writes all taken in a burst at budgetStart, which it
// returns as now.
func spentBudget(t *testing.T) (*limitState, time.Time) {
	s, now := newBudget(60, 500, t.Name()), budgetStart
	for s.reserveWrite(now) == nil { // the burst
	}
	return s, now
}

// TestWriteBudgetIsSpentAndNeverExceeded drives a token's budget the way
// busy phases do — a write whenever one is due, late by a random worker
// delay, each taking a random time on its way, with quiet spells — and
// checks GitHub's windows as GitHub counts them, at the moment each write
// reaches it: no minute and no hour holds more writes than allowed, and a
// long ramp spends at least 90% of the binding budget.
func TestWriteBudgetIsSpentAndNeverExceeded(t *testing.T) {
	for _, tc := range []struct {
		perMinute, perHour int
		run                time.Duration
		binding            float64 // writes the budget allows over the run
		minuteBound        bool    // the minute's budget binds (not the hour's)
	}{
		{perMinute: 60, perHour: 500, run: 3 * time.Hour, binding: 3 * 500},        // GitHub's limits: the hour binds
		{perMinute: 120, perHour: 20000, run: 30 * time.Minute, binding: 30 * 120}, // an Enterprise budget: the minute binds
		{perMinute: 6, perHour: 1000, run: 20 * time.Minute, binding: 20 * 6},      // a small one
		{perMinute: 80, perHour: 500, run: 90 * time.Minute, binding: 2 * 500},     // the hour twice
	} {
		t.Run(fmt.Sprintf("%d/min %d/h", tc.perMinute, tc.perHour), func(t *testing.T) {
			s := newBudget(tc.perMinute, tc.perHour, t.Name())
			rng := rand.New(rand.NewPCG(1, 2))
			start := budgetStart
			now := start
			var sent []time.Time
			var idle time.Duration
			for now.Sub(start) < tc.run {
				if err := s.reserveWrite(now); err != nil {
					if !err.Budget || !err.ResumeAt.After(now) {
						t.Fatalf("at %s: %v", now.Sub(start), err)
					}
					// Back when told, a little late as a busy worker is.
					now = err.ResumeAt.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
					continue
				}
				// On its way: GitHub counts it halfway, cxloop hears back at the end.
				rtt := time.Duration(rng.IntN(400)) * time.Millisecond
				sent = append(sent, now.Add(rtt/2))
				now = now.Add(rtt)
				s.settleWrite(now)
				now = now.Add(time.Duration(rng.IntN(50)) * time.Millisecond)
				if len(sent)%700 == 0 { // a quiet spell, shorter than a minute
					quiet := time.Duration(10+rng.IntN(40)) * time.Second
					now, idle = now.Add(quiet), idle+quiet
				}
			}
			for _, w := range []struct {
				span  time.Duration
				limit int
			}{{time.Minute, tc.perMinute}, {time.Hour, tc.perHour}} {
				j := 0
				for i := range sent { // the most writes in any [t, t+span)
					for sent[i].Sub(sent[j]) >= w.span {
						j++
					}
					if n := i - j + 1; n > w.limit {
						t.Fatalf("%d writes within %s of %s, limit %d", n, w.span, sent[j].Sub(start), w.limit)
					}
				}
			}
			allowed := tc.binding
			if tc.minuteBound { // no demand while quiet
				allowed = float64(tc.perMinute) * (tc.run - idle).Minutes()
			}
			if share := float64(len(sent)) / allowed; share < 0.9 {
				t.Errorf("%d writes over %s (%s quiet), %.0f%% of the %.0f the budget allows", len(sent), tc.run, idle, 100*share, allowed)
			}
		})
	}
}

// TestWriteDelayHandsOutSlots: phases told to wait come back one write
// apart, not all at once; a phase asking again before its slot keeps its
// place instead of pushing the line back; one whose slot came while
// another took the write goes next.
func TestWriteDelayHandsOutSlots(t *testing.T) {
	s, now := spentBudget(t)
	first := s.writeDelay(now, "p0")
	for i := 1; i < 5; i++ {
		if d := s.writeDelay(now, fmt.Sprintf("p%d", i)); d-first != time.Duration(i)*time.Second {
			t.Fatalf("waiter %d told to wait %s, want %s: slots one second apart", i, d, first+time.Duration(i)*time.Second)
		}
	}
	later := now.Add(first / 2)
	if d := s.writeDelay(later, "p3"); d != first+3*time.Second-first/2 {
		t.Errorf("p3 asking again was told %s, want its own slot %s later", d, first+3*time.Second-first/2)
	}
	if d := s.writeDelay(now, "p5"); d != first+5*time.Second {
		t.Errorf("a new waiter after asks again was told %s, want %s: asking again must not push the line back", d, first+5*time.Second)
	}
	// p0's slot comes, but the write goes to someone else first.
	at := now.Add(first)
	if err := s.reserveWrite(at); err != nil {
		t.Fatal(err)
	}
	if d := s.writeDelay(at, "p0"); d <= 0 || d > 2*time.Second {
		t.Errorf("p0, its slot taken, was told %s: want the next write", d)
	}
	if d := s.writeDelay(at.Add(time.Second), "p1"); d != 0 {
		t.Errorf("p1 at its slot was told %s, want 0", d)
	}
}

// TestLookingKeepsTheTurn: a waiter that only looks whether its turn came
// (before deciding what to read) neither takes a slot nor gives up its
// own; if another takes the write between its look and its ask, it goes
// next, not to the back of the line.
func TestLookingKeepsTheTurn(t *testing.T) {
	s, now := spentBudget(t)
	first := s.writeDelay(now, "p0")
	for i := 1; i < 5; i++ {
		s.writeDelay(now, fmt.Sprintf("p%d", i))
	}
	if !s.waitsInLine(now, "p0") {
		t.Fatal("p0 before its slot: not waiting")
	}
	if s.waitsInLine(now, "stranger") {
		if _, held := s.slots["stranger"]; held {
			t.Error("a look took a slot")
		}
	}
	at := now.Add(first)
	if s.waitsInLine(at, "p0") {
		t.Fatal("p0 at its slot: still waiting")
	}
	if err := s.reserveWrite(at); err != nil { // another takes the write
		t.Fatal(err)
	}
	if d := s.writeDelay(at, "p0"); d <= 0 || d > 2*time.Second {
		t.Errorf("p0, its write taken after it looked, was told %s: want the next write, not the back of the line", d)
	}
}

// TestOneWaiterToldNowAtATime: two waiters asking at once are not both
// told to write now (the loser would record an attempt for nothing); the
// second may once the first's write is reserved, or its hold lapses.
func TestOneWaiterToldNowAtATime(t *testing.T) {
	s, now := newBudget(60, 500, t.Name()), budgetStart
	if d := s.writeDelay(now, "p0"); d != 0 {
		t.Fatalf("p0 with the budget unspent told %s", d)
	}
	if d := s.writeDelay(now, "p1"); d <= 0 {
		t.Errorf("p1 told to write now while p0 is on its way")
	}
	if s.waitsInLine(now, "p0") {
		t.Errorf("p0, told now, looks and is told to wait")
	}
	if err := s.reserveWrite(now); err != nil {
		t.Fatal(err)
	}
	if d := s.writeDelay(now, "p2"); d != 0 {
		t.Errorf("p2 after p0's write was reserved, with budget left, told %s", d)
	}
	if d := s.writeDelay(now.Add(grantHold), "p3"); d != 0 {
		t.Errorf("p3 after p2's hold lapsed told %s", d)
	}
}
