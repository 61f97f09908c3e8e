package review

import (
	"fmt"
	"testing"
	"time"
)

func seconds(n int64) *int64 { return &n }

// TestDue follows the shape of the CronJob controller's
// TestMostRecentScheduleTime / TestNextScheduleTime tables: one schedule,
// fixed instants, the whole Decision compared.
func TestDue(t *testing.T) {
	ams := mustLoad(t, "Europe/Amsterdam")
	ny := mustLoad(t, "America/New_York")

	// 2026-01-05 is a Monday.
	const weekly = "0 9 * * 1"

	tests := []struct {
		name     string
		spec, tz string
		created  time.Time
		last     time.Time
		now      time.Time
		deadline *int64
		want     Decision
		open     bool
	}{
		{
			name: "no review yet: counts from creation, first Monday is due",
			spec: weekly, created: utc(2026, 1, 1, 10, 0), now: utc(2026, 1, 5, 9, 30),
			want: Decision{ScheduledTime: utc(2026, 1, 5, 9, 0), Next: utc(2026, 1, 12, 9, 0)},
			open: true,
		},
		{
			name: "now before the first scheduled time: nothing due, next is the first",
			spec: weekly, created: utc(2026, 1, 1, 10, 0), now: utc(2026, 1, 4, 23, 59),
			want: Decision{Next: utc(2026, 1, 5, 9, 0)},
		},
		{
			name: "now exactly at a scheduled time: due",
			spec: weekly, created: utc(2026, 1, 1, 10, 0), now: utc(2026, 1, 5, 9, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 5, 9, 0), Next: utc(2026, 1, 12, 9, 0)},
			open: true,
		},
		{
			name: "one second before a scheduled time: not yet due",
			spec: weekly, created: utc(2026, 1, 1, 10, 0), now: utc(2026, 1, 5, 9, 0).Add(-time.Second),
			want: Decision{Next: utc(2026, 1, 5, 9, 0)},
		},
		{
			name: "created exactly at a scheduled time: that time is not due",
			spec: weekly, created: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 5, 9, 0),
			want: Decision{Next: utc(2026, 1, 12, 9, 0)},
		},
		{
			name: "review already opened for this time: not due again",
			spec: weekly, created: utc(2026, 1, 1, 10, 0), last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 5, 9, 1),
			want: Decision{Next: utc(2026, 1, 12, 9, 0)},
		},
		{
			name: "last review wins over creation time",
			spec: weekly, created: utc(2025, 6, 1, 0, 0), last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 12, 9, 5),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 9, 0), Next: utc(2026, 1, 19, 9, 0)},
			open: true,
		},
		{
			name: "downtime: one catch-up review for the latest missed Monday, three passed over",
			spec: weekly, created: utc(2025, 12, 1, 0, 0), last: utc(2026, 1, 5, 9, 0), now: utc(2026, 2, 3, 12, 0),
			// Mondays in (Jan 5, Feb 3 12:00]: Jan 12, 19, 26, Feb 2.
			want: Decision{ScheduledTime: utc(2026, 2, 2, 9, 0), Missed: 3, Next: utc(2026, 2, 9, 9, 0)},
			open: true,
		},
		{
			name: "downtime with a deadline: latest Monday too late, recorded as missed",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 2, 3, 12, 0), deadline: seconds(600),
			want: Decision{ScheduledTime: utc(2026, 2, 2, 9, 0), Missed: 3, TooLate: true, Next: utc(2026, 2, 9, 9, 0)},
		},
		{
			name: "within startingDeadlineSeconds: opened",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 12, 9, 59), deadline: seconds(3600),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 9, 0), Next: utc(2026, 1, 19, 9, 0)},
			open: true,
		},
		{
			name: "exactly at the deadline: still opened, as in CronJob",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 12, 10, 0), deadline: seconds(3600),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 9, 0), Next: utc(2026, 1, 19, 9, 0)},
			open: true,
		},
		{
			name: "one second past the deadline: too late",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 12, 10, 0).Add(time.Second), deadline: seconds(3600),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 9, 0), TooLate: true, Next: utc(2026, 1, 19, 9, 0)},
		},
		{
			name: "zero deadline: only a reconcile at the exact time opens",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 12, 9, 0), deadline: seconds(0),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 9, 0), Next: utc(2026, 1, 19, 9, 0)},
			open: true,
		},
		{
			name: "huge deadline does not overflow",
			spec: weekly, last: utc(2026, 1, 5, 9, 0), now: utc(2026, 3, 1, 0, 0), deadline: seconds(1 << 62),
			want: Decision{ScheduledTime: utc(2026, 2, 23, 9, 0), Missed: 6, Next: utc(2026, 3, 2, 9, 0)},
			open: true,
		},
		{
			name: "neither last nor created known: nothing due, next counted from now",
			spec: weekly, now: utc(2026, 1, 6, 0, 0),
			want: Decision{Next: utc(2026, 1, 12, 9, 0)},
		},
		{
			name: "clock skew, now before creation: nothing due, next after creation",
			spec: weekly, created: utc(2026, 1, 13, 0, 0), now: utc(2026, 1, 5, 9, 30),
			want: Decision{Next: utc(2026, 1, 19, 9, 0)},
		},
		{
			name: "exactly 100 passed over is counted, not flagged",
			spec: "@hourly", last: utc(2026, 1, 1, 0, 0), now: utc(2026, 1, 5, 5, 30),
			// 101 hours in (Jan 1 00:00, Jan 5 05:30]: Jan 5 05:00 opened, 100 passed over.
			want: Decision{ScheduledTime: utc(2026, 1, 5, 5, 0), Missed: 100, Next: utc(2026, 1, 5, 6, 0)},
			open: true,
		},
		{
			name: "101 passed over: capped and flagged",
			spec: "@hourly", last: utc(2026, 1, 1, 0, 0), now: utc(2026, 1, 5, 6, 30),
			want: Decision{ScheduledTime: utc(2026, 1, 5, 6, 0), Missed: MaxCountedMissed, ManyMissed: true, Next: utc(2026, 1, 5, 7, 0)},
			open: true,
		},
		{
			name: "minutely schedule down for ten years: latest minute found, one review",
			spec: "* * * * *", last: utc(2016, 1, 1, 0, 0), now: time.Date(2026, 1, 1, 12, 34, 56, 0, time.UTC),
			want: Decision{ScheduledTime: utc(2026, 1, 1, 12, 34), Missed: MaxCountedMissed, ManyMissed: true, Next: utc(2026, 1, 1, 12, 35)},
			open: true,
		},
		{
			name: "weekdays only, down for a year, reconciled on a Sunday: Friday is due",
			spec: "0 9 * * 1-5", last: utc(2025, 1, 1, 9, 0), now: utc(2026, 1, 11, 12, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 9, 9, 0), Missed: MaxCountedMissed, ManyMissed: true, Next: utc(2026, 1, 12, 9, 0)},
			open: true,
		},
		{
			name: "@every 1m down for two years: anchored at creation, no stepping through a million ticks",
			spec: "@every 1m", created: time.Date(2024, 1, 1, 0, 0, 30, 0, time.UTC), now: utc(2026, 1, 1, 12, 0),
			want: Decision{
				ScheduledTime: time.Date(2026, 1, 1, 11, 59, 30, 0, time.UTC), Missed: MaxCountedMissed, ManyMissed: true,
				Next: time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC),
			},
			open: true,
		},
		{
			name: "@every 1h is anchored at the journey's creation, not at the hour",
			spec: "@every 1h", created: time.Date(2026, 1, 5, 8, 17, 23, 0, time.UTC), now: utc(2026, 1, 5, 11, 0),
			want: Decision{
				ScheduledTime: time.Date(2026, 1, 5, 10, 17, 23, 0, time.UTC), Missed: 1,
				Next: time.Date(2026, 1, 5, 11, 17, 23, 0, time.UTC),
			},
			open: true,
		},
		{
			name: "@every 1h continues from the last review",
			spec: "@every 1h", created: utc(2026, 1, 1, 0, 0), last: utc(2026, 1, 5, 9, 0), now: utc(2026, 1, 5, 9, 59),
			want: Decision{Next: utc(2026, 1, 5, 10, 0)},
		},
		{
			name: "@yearly: first review the next New Year",
			spec: "@yearly", created: utc(2026, 3, 1, 0, 0), now: utc(2027, 1, 1, 0, 5),
			want: Decision{ScheduledTime: utc(2027, 1, 1, 0, 0), Next: utc(2028, 1, 1, 0, 0)},
			open: true,
		},
		{
			name: "@quarterly after a quarter of downtime: July due, April passed over",
			spec: "@quarterly", created: utc(2026, 1, 15, 0, 0), now: utc(2026, 7, 2, 0, 0),
			want: Decision{ScheduledTime: utc(2026, 7, 1, 0, 0), Missed: 1, Next: utc(2026, 10, 1, 0, 0)},
			open: true,
		},
		{
			name: "@monthly in Amsterdam: local midnight on the first",
			spec: "@monthly", tz: "Europe/Amsterdam", last: time.Date(2026, 1, 1, 0, 0, 0, 0, ams), now: utc(2026, 2, 1, 0, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 31, 23, 0), Next: time.Date(2026, 3, 1, 0, 0, 0, 0, ams)},
			open: true,
		},
		{
			name: "@daily two days down: one review, one passed over",
			spec: "@daily", last: utc(2026, 1, 1, 0, 0), now: utc(2026, 1, 3, 8, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 3, 0, 0), Missed: 1, Next: utc(2026, 1, 4, 0, 0)},
			open: true,
		},
		{
			name: "@weekly: due on Sunday midnight",
			spec: "@weekly", last: utc(2026, 1, 4, 0, 0), now: utc(2026, 1, 11, 0, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 11, 0, 0), Next: utc(2026, 1, 18, 0, 0)},
			open: true,
		},
		{
			name: "time zone: Monday 09:00 New York is not due at 09:00 UTC",
			spec: weekly, tz: "America/New_York", last: utc(2026, 1, 5, 14, 0), now: utc(2026, 1, 12, 9, 0),
			want: Decision{Next: time.Date(2026, 1, 12, 9, 0, 0, 0, ny)},
		},
		{
			name: "time zone: Monday 09:00 New York is due at 14:00 UTC in winter",
			spec: weekly, tz: "America/New_York", last: utc(2026, 1, 5, 14, 0), now: utc(2026, 1, 12, 14, 0),
			want: Decision{ScheduledTime: utc(2026, 1, 12, 14, 0), Next: utc(2026, 1, 19, 14, 0)},
			open: true,
		},
		{
			name: "Amsterdam spring-forward: the nonexistent 02:30 on 29 March is neither due nor missed",
			spec: "30 2 * * *", tz: "Europe/Amsterdam", last: utc(2026, 3, 28, 1, 30), now: time.Date(2026, 3, 30, 3, 0, 0, 0, ams),
			want: Decision{ScheduledTime: time.Date(2026, 3, 30, 2, 30, 0, 0, ams), Next: time.Date(2026, 3, 31, 2, 30, 0, 0, ams)},
			open: true,
		},
		{
			name: "Amsterdam spring-forward: nothing due at 03:00 CEST on 29 March",
			spec: "30 2 * * *", tz: "Europe/Amsterdam", last: utc(2026, 3, 28, 1, 30), now: time.Date(2026, 3, 29, 3, 0, 0, 0, ams),
			want: Decision{Next: time.Date(2026, 3, 30, 2, 30, 0, 0, ams)},
		},
		{
			name: "Amsterdam fall-back: second 02:30 (CET) due, first (CEST) passed over",
			spec: "30 2 * * *", tz: "Europe/Amsterdam", last: utc(2026, 10, 24, 0, 30), now: utc(2026, 10, 25, 1, 45),
			want: Decision{ScheduledTime: utc(2026, 10, 25, 1, 30), Missed: 1, Next: utc(2026, 10, 26, 1, 30)},
			open: true,
		},
		{
			name: "New York fall-back: Monday after 1 November due at 14:00 UTC, not 13:00",
			spec: weekly, tz: "America/New_York", last: utc(2026, 10, 26, 13, 0), now: utc(2026, 11, 2, 13, 30),
			want: Decision{Next: utc(2026, 11, 2, 14, 0)},
		},
		{
			name: "New York fall-back: due at 09:00 EST",
			spec: weekly, tz: "America/New_York", last: utc(2026, 10, 26, 13, 0), now: utc(2026, 11, 2, 14, 0),
			want: Decision{ScheduledTime: utc(2026, 11, 2, 14, 0), Next: utc(2026, 11, 9, 14, 0)},
			open: true,
		},
		{
			name: "New York weekly down for years across many DST changes: latest Monday found",
			spec: weekly, tz: "America/New_York", last: utc(2020, 1, 6, 14, 0), now: utc(2026, 11, 3, 0, 0),
			want: Decision{ScheduledTime: utc(2026, 11, 2, 14, 0), Missed: MaxCountedMissed, ManyMissed: true, Next: utc(2026, 11, 9, 14, 0)},
			open: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec, tt.tz)
			got := s.Due(tt.created, tt.last, tt.now, tt.deadline)
			if !sameDecision(got, tt.want) {
				t.Errorf("Due(created=%s, last=%s, now=%s)\n got  %s\n want %s",
					fmtTime(tt.created), fmtTime(tt.last), fmtTime(tt.now), fmtDecision(got), fmtDecision(tt.want))
			}
			if got.ShouldOpen() != tt.open {
				t.Errorf("ShouldOpen() = %v, want %v", got.ShouldOpen(), tt.open)
			}
			if !got.Next.After(tt.now) {
				t.Errorf("Next %s is not after now %s", fmtTime(got.Next), fmtTime(tt.now))
			}
		})
	}
}

// TestDueMatchesBruteForce compares Due with a plain walk over every
// scheduled time, across schedules, zones and gaps on both sides of the
// MaxCountedMissed cut-over (where Due switches to bisection).
func TestDueMatchesBruteForce(t *testing.T) {
	specs := []struct{ spec, tz string }{
		{"*/7 * * * *", ""},
		{"0 * * * *", "Europe/Amsterdam"},
		{"30 2 * * *", "Europe/Amsterdam"},
		{"0 9 * * 1-5", "America/New_York"},
		{"15 1,13 * * 0", "Australia/Lord_Howe"}, // 30-minute DST shift
		{"0 0 29 2 *", ""},
		{"0 9 1,15 * *", "Asia/Kolkata"},
		{"@quarterly", "America/Sao_Paulo"},
		{"@every 45m", ""},
		{"@every 25h", ""},
	}
	starts := []time.Time{utc(2024, 3, 10, 6, 59), time.Date(2025, 10, 26, 0, 47, 13, 0, time.UTC)}
	gaps := []time.Duration{0, 6 * time.Hour, 3 * 24 * time.Hour, 40 * 24 * time.Hour, 400 * 24 * time.Hour, 3 * 365 * 24 * time.Hour}

	for _, sp := range specs {
		s := mustParse(t, sp.spec, sp.tz)
		for _, last := range starts {
			for _, gap := range gaps {
				now := last.Add(gap + 17*time.Minute + 3*time.Second)
				name := fmt.Sprintf("%s in %q, last %s, gap %s", sp.spec, sp.tz, fmtTime(last), gap)
				t.Run(name, func(t *testing.T) {
					var want Decision
					n := 0
					for tick := s.Next(last); !tick.After(now); tick = s.Next(tick) {
						want.ScheduledTime = tick
						n++
					}
					if n > 0 {
						want.Missed = n - 1
					}
					if want.Missed > MaxCountedMissed {
						want.Missed, want.ManyMissed = MaxCountedMissed, true
					}
					if n > 0 {
						want.Next = s.Next(want.ScheduledTime)
					} else {
						want.Next = s.Next(last)
					}
					got := s.Due(time.Time{}, last, now, nil)
					if !sameDecision(got, want) {
						t.Errorf("got  %s\nwant %s (%d scheduled times)", fmtDecision(got), fmtDecision(want), n)
					}
				})
			}
		}
	}
}

// After one review is opened and recorded as last, an immediate reconcile
// must not open another: never a storm after downtime.
func TestDueOpensOneReviewAfterDowntime(t *testing.T) {
	s := mustParse(t, "*/15 * * * *", "Europe/Amsterdam")
	now := utc(2026, 1, 5, 9, 7)
	d := s.Due(utc(2026, 1, 1, 0, 0), time.Time{}, now, nil)
	if !d.ShouldOpen() || d.Missed == 0 {
		t.Fatalf("after downtime want one review with misses, got %s", fmtDecision(d))
	}
	opened := map[string]bool{ReviewKey(d.ScheduledTime): true}
	for step := time.Duration(0); step < 8*time.Minute; step += time.Minute {
		again := s.Due(utc(2026, 1, 1, 0, 0), d.ScheduledTime, now.Add(step), nil)
		if again.ShouldOpen() {
			if opened[ReviewKey(again.ScheduledTime)] {
				t.Fatalf("review %s opened twice", ReviewKey(again.ScheduledTime))
			}
			t.Fatalf("second review %s opened %s after the catch-up", ReviewKey(again.ScheduledTime), step)
		}
		if want := utc(2026, 1, 5, 9, 15); !again.Next.Equal(want) {
			t.Fatalf("Next = %s, want %s", fmtTime(again.Next), fmtTime(want))
		}
	}
}

func TestRequeueAfter(t *testing.T) {
	now := utc(2026, 1, 5, 9, 0)
	tests := []struct {
		name string
		d    Decision
		want time.Duration
	}{
		{"until next review", Decision{Next: utc(2026, 1, 12, 9, 0)}, 7 * 24 * time.Hour},
		{"unknown next", Decision{}, 0},
		{"next already passed", Decision{Next: utc(2026, 1, 5, 8, 0)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.RequeueAfter(now); got != tt.want {
				t.Errorf("RequeueAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func sameDecision(a, b Decision) bool {
	return a.ScheduledTime.Equal(b.ScheduledTime) && a.Missed == b.Missed && a.ManyMissed == b.ManyMissed &&
		a.TooLate == b.TooLate && a.Next.Equal(b.Next)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtDecision(d Decision) string {
	return fmt.Sprintf("{ScheduledTime:%s Missed:%d ManyMissed:%v TooLate:%v Next:%s}",
		fmtTime(d.ScheduledTime), d.Missed, d.ManyMissed, d.TooLate, fmtTime(d.Next))
}

// countingSchedule counts calls to the cron library's Next.
type countingSchedule struct {
	inner interface{ Next(time.Time) time.Time }
	calls int
}

func (c *countingSchedule) Next(t time.Time) time.Time { c.calls++; return c.inner.Next(t) }

// A decade of downtime on a minutely schedule is over five million missed
// times; Due must find the latest without stepping through them.
func TestDueDoesNotStepThroughEveryMissedTime(t *testing.T) {
	s := mustParse(t, "* * * * *", "Europe/Amsterdam")
	counter := &countingSchedule{inner: s.cron}
	s.cron = counter
	d := s.Due(time.Time{}, utc(2016, 1, 1, 0, 0), time.Date(2026, 1, 1, 12, 34, 56, 0, time.UTC), nil)
	if !d.ScheduledTime.Equal(utc(2026, 1, 1, 12, 34)) || !d.ManyMissed {
		t.Fatalf("got %s", fmtDecision(d))
	}
	if limit := 2*MaxCountedMissed + 100; counter.calls > limit {
		t.Errorf("Due called Next %d times, want at most %d", counter.calls, limit)
	}
	if testing.Verbose() {
		t.Logf("Next called %d times", counter.calls)
	}
}

func TestScheduledTimeOfReadsReviewKeyBack(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	got, ok := ScheduledTimeOf(ReviewKey(at))
	if !ok || !got.Equal(at) {
		t.Errorf("ScheduledTimeOf(ReviewKey(%v)) = %v, %v", at, got, ok)
	}
	for _, bad := range []string{"", "review-", "review-2026", "dashboard", "painpoint/review-202601010000"} {
		if _, ok := ScheduledTimeOf(bad); ok {
			t.Errorf("ScheduledTimeOf(%q) accepted", bad)
		}
	}
}
