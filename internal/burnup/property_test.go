package burnup

import (
	"math/rand"
	"testing"
)

// randomPhase is a phase of up to 40 items started on the start, with
// closes over its first 120 days (some at unknown times, some obsolete), a
// deadline in some and a completion in a few.
func randomPhase(r *rand.Rand) Phase {
	p := Phase{StartedAt: start}
	for range r.Intn(40) {
		it := Item{OpenedAt: start}
		switch r.Intn(6) {
		case 0, 1, 2:
			it.Closed, it.ClosedAt = true, at(r.Float64()*120)
		case 3:
			it.Closed = true
		case 4:
			it.Obsolete = true
		}
		p.Items = append(p.Items, it)
	}
	if r.Intn(3) > 0 {
		p.Deadline = midnight(at(float64(r.Intn(200))))
	}
	if r.Intn(8) == 0 {
		p.CompletedAt = at(float64(r.Intn(120)))
	}
	return p
}

// TestForecastInvariants checks, over many phases and days, what every
// forecast promises whatever the numbers.
func TestForecastInvariants(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := range 300 {
		p := randomPhase(r)
		now := at(r.Float64() * 150)
		f := Project(p, now, Options{})
		if f.Remaining != max(0, f.Planned-f.Closed) || f.Closed > f.Planned || f.Planned != p.Planned() {
			t.Fatalf("phase %d: planned %d closed %d remaining %d", i, f.Planned, f.Closed, f.Remaining)
		}
		if f.Reason == "" {
			t.Errorf("phase %d: %s without a reason", i, f.Schedule)
		}
		if !p.CompletedAt.IsZero() {
			if f.Schedule != Completed {
				t.Errorf("phase %d: completed, but %s", i, f.Schedule)
			}
			continue
		}
		if !f.Projected.IsZero() && f.Projected.Before(now) {
			t.Errorf("phase %d: projected %v before now %v", i, f.Projected, now)
		}
		late := !p.Deadline.IsZero() && !now.Before(dueEnd(p.Deadline))
		if (f.Schedule == Late) != late || f.Since.IsZero() == late {
			t.Errorf("phase %d: schedule %s since %v at %v with deadline %v", i, f.Schedule, f.Since, now, p.Deadline)
		}
		if f.Schedule == AtRisk && !f.Projected.IsZero() && f.Projected.Before(dueEnd(p.Deadline)) {
			t.Errorf("phase %d: at risk, but projected %v before the end of %v", i, f.Projected, p.Deadline)
		}
		if f.Schedule == OnTrack && (f.Projected.IsZero() || !f.Projected.Before(dueEnd(p.Deadline))) {
			t.Errorf("phase %d: on track, but projected %v for %v", i, f.Projected, p.Deadline)
		}
		// A rate only from enough closes over enough days; a date only from a rate.
		if f.RatePerDay > 0 && (f.RecentCloses < DefaultMinCloses || f.Observed < DefaultMinObserved || f.Remaining == 0) {
			t.Errorf("phase %d: rate %g from %d closes over %v, %d remaining", i, f.RatePerDay, f.RecentCloses, f.Observed, f.Remaining)
		}
		if f.RatePerDay == 0 && f.Remaining > 0 && !f.Projected.IsZero() {
			t.Errorf("phase %d: projected %v without a rate", i, f.Projected)
		}
	}
}

// TestColumnInvariants: whatever the phase, the columns run from the
// start's day forward, never lose closed work, never show more than is
// planned, and mark the deadline when it is in their span.
func TestColumnInvariants(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for i := range 300 {
		p := randomPhase(r)
		now := at(r.Float64() * 150)
		n := r.Intn(40)
		cs := Columns(p, Project(p, now, Options{}), now, n)
		if len(cs) < 2 || len(cs) > max(n, 2) {
			t.Fatalf("phase %d: %d columns for n=%d", i, len(cs), n)
		}
		if !cs[0].Day.Equal(midnight(start)) {
			t.Errorf("phase %d: first column %v", i, cs[0].Day)
		}
		today := midnight(now)
		if !p.CompletedAt.IsZero() && p.CompletedAt.Before(now) {
			today = midnight(p.CompletedAt) // a completed phase's last day
		}
		marked := 0
		for j, c := range cs {
			if c.Closed > c.Planned || c.Planned != p.Planned() {
				t.Errorf("phase %d column %d: %d closed of %d", i, j, c.Closed, c.Planned)
			}
			if j > 0 && (!c.Day.After(cs[j-1].Day) || c.Closed < cs[j-1].Closed) {
				t.Errorf("phase %d column %d: %v with %d closed after %v with %d", i, j, c.Day, c.Closed, cs[j-1].Day, cs[j-1].Closed)
			}
			if c.Projected != c.Day.After(today) {
				t.Errorf("phase %d column %d: projected %v on %v, today %v", i, j, c.Projected, c.Day, today)
			}
			if c.Deadline {
				marked++
				if !c.Day.Equal(p.Deadline) {
					t.Errorf("phase %d column %d: deadline marked on %v, deadline %v", i, j, c.Day, p.Deadline)
				}
			}
		}
		last := cs[len(cs)-1].Day
		if in := !p.Deadline.IsZero() && !p.Deadline.Before(cs[0].Day) && !p.Deadline.After(last); marked > 1 || (in && len(cs) > 2 && marked != 1) {
			t.Errorf("phase %d: deadline %v marked %d times in %v..%v (%d columns)", i, p.Deadline, marked, cs[0].Day, last, len(cs))
		}
	}
}
