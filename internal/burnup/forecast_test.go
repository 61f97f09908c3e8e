package burnup

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestScheduleWords(t *testing.T) {
	for s, want := range map[Schedule]string{
		NotStarted: "not started", OnTrack: "on track", AtRisk: "at risk", Late: "late",
		Completed: "completed", NotEnoughData: "not enough data", NoDeadline: "no deadline",
		"": "not started", "Unknown": "not started",
	} {
		if got := s.Words(); got != want {
			t.Errorf("%q.Words() = %q, want %q", s, got, want)
		}
	}
}

func TestParseDeadline(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-04-30":           time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC),
		"2028-02-29":           time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
		"":                     {},
		"2026-02-30":           {},
		"2027-02-29":           {},
		"2026/04/30":           {},
		"30-04-2026":           {},
		" 2026-04-30":          {},
		"2026-04-30T00:00:00Z": {},
		"2026-4-30":            {},
	} {
		if got := ParseDeadline(in); !got.Equal(want) {
			t.Errorf("ParseDeadline(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDaysText(t *testing.T) {
	for d, want := range map[float64]string{0: "less than a day", 0.99: "less than a day", 1: "1 day", 1.99: "1 day", 2: "2 days", 27.9: "27 days"} {
		if got := daysText(d); got != want {
			t.Errorf("daysText(%g) = %q, want %q", d, got, want)
		}
	}
}

// TestForecastNumbers: the numbers behind the on-track forecast of
// TestProject, and those of a phase whose rate counts only the window.
func TestForecastNumbers(t *testing.T) {
	for _, tc := range []struct {
		name          string
		phase         Phase
		now           time.Time
		o             Options
		closed        int
		recent        int
		observed      time.Duration
		perWeek       float64
		projectedDays float64 // after the start; 0 for none
	}{
		{"14 days, 4 closes", Phase{StartedAt: start, Items: items(4, 2, 5, 9, 12)}, at(14), Options{}, 4, 4, 14 * 24 * time.Hour, 2, 28},
		// The window of 28 days ends the observed time; closes before it count as closed, not towards the rate.
		{"window of the last 28 days", Phase{StartedAt: start, Items: items(6, 1, 2, 35, 42)}, at(49), Options{}, 4, 2, 28 * 24 * time.Hour, 0.5, 49 + 84},
		{"own window", Phase{StartedAt: start, Items: items(1, 1, 2, 12, 13)}, at(14), Options{Window: 7 * 24 * time.Hour}, 4, 2, 7 * 24 * time.Hour, 2, 14 + 3.5},
		// Observed less than a day, allowed by options: the rate is per part of a day.
		{"under a day", Phase{StartedAt: start, Items: items(2, 0.1, 0.2)}, at(0.5), Options{MinObserved: time.Hour, MinCloses: 1}, 2, 2, 12 * time.Hour, 28, 1},
		{"negative options take the defaults", Phase{StartedAt: start, Items: items(4, 2, 5, 9, 12)}, at(14), Options{Window: -1, MinCloses: -1, MinObserved: -1}, 4, 4, 14 * 24 * time.Hour, 2, 28},
		// A close dated after now (a clock ahead) is not closed yet.
		{"close in the future", Phase{StartedAt: start, Items: items(2, 3, 8, 30)}, at(10), Options{}, 2, 2, 10 * 24 * time.Hour, 1.4, 10 + 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, tc.now, tc.o)
			if f.Closed != tc.closed || f.RecentCloses != tc.recent || f.Observed != tc.observed {
				t.Errorf("closed %d, recent %d over %v; want %d, %d over %v", f.Closed, f.RecentCloses, f.Observed, tc.closed, tc.recent, tc.observed)
			}
			if math.Abs(f.PerWeek()-tc.perWeek) > 1e-9 || math.Abs(f.RatePerDay*7-f.PerWeek()) > 1e-9 {
				t.Errorf("%.4f a week, want %.4f", f.PerWeek(), tc.perWeek)
			}
			if want := at(tc.projectedDays); tc.projectedDays > 0 && f.Projected.Sub(want).Abs() > time.Second {
				t.Errorf("projected %v, want %v", f.Projected, want)
			}
			if f.Schedule != NoDeadline {
				t.Errorf("schedule %s without a deadline, want NoDeadline", f.Schedule)
			}
		})
	}
}

func TestForecastWithoutEnoughData(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phase  Phase
		now    time.Time
		o      Options
		reason string
	}{
		{"started hours ago", Phase{StartedAt: start, Items: items(2, 0.1)}, at(0.5), Options{}, "started less than a day ago: a forecast needs 7 days of closing"},
		{"one day", Phase{StartedAt: start, Items: items(2, 0.1)}, at(1.5), Options{}, "started 1 day ago"},
		{"own minimum closes", Phase{StartedAt: start, Items: items(2, 1, 2, 3)}, at(10), Options{MinCloses: 4}, "3 closed in the last 10 days: a forecast needs 4"},
		{"own minimum observed", Phase{StartedAt: start, Items: items(2, 1, 2, 3)}, at(10), Options{MinObserved: 14 * 24 * time.Hour}, "a forecast needs 14 days of closing"},
		{"closed at unknown times only", Phase{StartedAt: start, Items: append(items(2), Item{Closed: true}, Item{Closed: true})}, at(10), Options{}, "0 closed in the last 10 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, tc.now, tc.o)
			if f.Schedule != NotEnoughData || !f.Projected.IsZero() || f.RatePerDay != 0 || !strings.Contains(f.Reason, tc.reason) {
				t.Errorf("Project = %s, projected %v, rate %g, %q; want NotEnoughData with %q", f.Schedule, f.Projected, f.RatePerDay, f.Reason, tc.reason)
			}
		})
	}
}

func TestCompletedPhaseForecast(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phase  Phase
		reason string
	}{
		// CompletedAt wins over Completed and over the work still open.
		{"completed with open work", Phase{StartedAt: start, CompletedAt: at(3), Completed: true, Items: items(2, 1)}, "completed on 2026-03-05"},
		{"completed on its deadline's last minute", Phase{StartedAt: start, CompletedAt: time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC), Deadline: ParseDeadline("2026-03-10"), Items: items(0, 1)},
			"completed on 2026-03-10"},
		{"completed the day after", Phase{StartedAt: start, CompletedAt: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), Deadline: ParseDeadline("2026-03-10"), Items: items(0, 1)},
			"completed on 2026-03-11, after its deadline of 2026-03-10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, at(30), Options{})
			if f.Schedule != Completed || f.Reason != tc.reason || !f.Projected.Equal(tc.phase.CompletedAt) || !f.Since.IsZero() {
				t.Errorf("Project = %s %q projected %v since %v; want Completed %q", f.Schedule, f.Reason, f.Projected, f.Since, tc.reason)
			}
		})
	}
}

func TestSeriesBounds(t *testing.T) {
	p := Phase{StartedAt: start, CompletedAt: at(30), Items: []Item{
		{Closed: true, ClosedAt: at(-2)}, // before the phase started
		{Closed: true, ClosedAt: at(1)},
		{Closed: true, ClosedAt: at(8)}, // after now
		{},
	}}
	got := Series(p, at(5))
	want := []Sample{{At: start, Closed: 1, Planned: 4}, {At: at(1), Closed: 2, Planned: 4}, {At: at(5), Closed: 2, Planned: 4}}
	if len(got) != len(want) {
		t.Fatalf("Series = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Closed != want[i].Closed || got[i].Planned != want[i].Planned {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Now at the start: one sample.
	if s := Series(Phase{StartedAt: start, Items: items(1)}, start); len(s) != 1 {
		t.Errorf("Series at the start = %+v, want one sample", s)
	}
}

func TestColumnsBounds(t *testing.T) {
	phase := Phase{StartedAt: start, Items: items(4, 2, 5, 9, 12)}
	for _, tc := range []struct {
		name     string
		phase    Phase
		now      time.Time
		n        int
		wantN    int
		wantLast time.Time
	}{
		{"at least two columns", phase, at(14), 0, 2, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
		{"one a day at most", phase, at(14), 100, 29, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
		{"a deadline over a year away does not stretch the chart", Phase{StartedAt: start, Deadline: ParseDeadline("2028-01-01"), Items: items(3)}, at(10), 50, 11,
			time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)},
		{"a deadline within a year does", Phase{StartedAt: start, Deadline: ParseDeadline("2027-01-01"), Items: items(3)}, at(10), 3, 3,
			time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"a deadline before the start is not shown", Phase{StartedAt: start, Deadline: ParseDeadline("2026-02-01"), Items: items(3)}, at(2), 9, 3,
			time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, tc.now, Options{})
			cs := Columns(tc.phase, f, tc.now, tc.n)
			if len(cs) != tc.wantN || !cs[len(cs)-1].Day.Equal(tc.wantLast) {
				t.Fatalf("%d columns to %v, want %d to %v", len(cs), cs[len(cs)-1].Day, tc.wantN, tc.wantLast)
			}
			if !cs[0].Day.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("first column %v, want the start's day", cs[0].Day)
			}
			for i, c := range cs {
				if c.Day.Hour() != 0 || c.Day.Location() != time.UTC {
					t.Errorf("column %d on %v, want midnight UTC", i, c.Day)
				}
				if i > 0 && (!c.Day.After(cs[i-1].Day) || c.Closed < cs[i-1].Closed) {
					t.Errorf("column %d (%v, %d closed) does not follow %v, %d", i, c.Day, c.Closed, cs[i-1].Day, cs[i-1].Closed)
				}
				if c.Closed > c.Planned {
					t.Errorf("column %d: %d closed of %d", i, c.Closed, c.Planned)
				}
				if c.Deadline && tc.phase.Deadline.Before(start) {
					t.Errorf("column %d marks a deadline before the start", i)
				}
			}
		})
	}
}

func TestColumnsWithoutARateKeepTheClosedCount(t *testing.T) {
	p := Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-20"), Items: items(3, 1)}
	now := at(4)
	f := Project(p, now, Options{})
	if f.RatePerDay != 0 {
		t.Fatalf("rate %g, want none", f.RatePerDay)
	}
	for _, c := range Columns(p, f, now, 20) {
		if c.Projected && c.Closed != 1 {
			t.Errorf("projected column %v: %d closed, want the 1 closed today", c.Day, c.Closed)
		}
	}
}

func TestColumnsInAnotherTimeZone(t *testing.T) {
	// 23:00 on 1 March in New York is 04:00 on 2 March UTC.
	ny := time.FixedZone("EST", -5*3600)
	started := time.Date(2026, 3, 1, 23, 0, 0, 0, ny)
	p := Phase{StartedAt: started, Items: []Item{{Closed: true, ClosedAt: time.Date(2026, 3, 2, 22, 0, 0, 0, ny)}, {}}}
	cs := Columns(p, Project(p, started.Add(72*time.Hour), Options{}), started.Add(72*time.Hour), 10)
	if len(cs) != 4 || !cs[0].Day.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("columns %+v, want 2 to 5 March UTC", cs)
	}
	// The close at 03:00 UTC on 3 March is in the 3 March column, not the 2nd.
	if cs[0].Closed != 0 || cs[1].Closed != 1 {
		t.Errorf("closed %d on 2 March and %d on 3 March, want 0 and 1", cs[0].Closed, cs[1].Closed)
	}
}
