package burnup

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The phase starts on Monday 2 March 2026, 09:00 UTC.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(days float64) time.Time { return start.Add(time.Duration(days * 24 * float64(time.Hour))) }

// items makes planned open items, then closed items at the given days after the start.
func items(open int, closedDays ...float64) []Item {
	var out []Item
	for i := 0; i < open; i++ {
		out = append(out, Item{OpenedAt: start})
	}
	for _, d := range closedDays {
		out = append(out, Item{OpenedAt: start, Closed: true, ClosedAt: at(d)})
	}
	return out
}

func TestProject(t *testing.T) {
	deadline := ParseDeadline("2026-04-30")
	tests := []struct {
		name          string
		phase         Phase
		now           time.Time
		want          Schedule
		wantProjected string // YYYY-MM-DD, "" for none
		wantReason    string // part of the reason
	}{
		{"not started", Phase{Deadline: deadline, Items: items(5)}, at(10), NotStarted, "", "not started"},
		{"not started and past the deadline", Phase{Deadline: ParseDeadline("2026-03-05"), Items: items(5)}, at(10), Late, "", "not started; deadline 2026-03-05 passed"},
		{"completed at an unknown time", Phase{Completed: true, Deadline: ParseDeadline("2026-03-05"), Items: items(0, 1)}, at(10), Completed, "", "completed"},
		{"no closes yet", Phase{StartedAt: start, Deadline: deadline, Items: items(5)}, at(20), NotEnoughData, "", "no item closed yet"},
		{"too few days observed", Phase{StartedAt: start, Deadline: deadline, Items: items(5, 0.5, 1, 1.5)}, at(2), NotEnoughData, "", "started 2 days ago: a forecast needs 7 days"},
		{"too few closes in the window", Phase{StartedAt: start, Deadline: deadline, Items: items(5, 3)}, at(14), NotEnoughData, "", "1 closed in the last 14 days: a forecast needs 2"},
		{"closes before the window do not count", Phase{StartedAt: start, Deadline: deadline, Items: items(5, 1, 2, 3, 40)}, at(50), NotEnoughData, "", "1 closed in the last 28 days"},
		// 4 closed in 14 days: 2 a week; 4 remaining take 14 more days: 30 March.
		{"on track", Phase{StartedAt: start, Deadline: deadline, Items: items(4, 2, 5, 9, 12)}, at(14), OnTrack, "2026-03-30", "4 closed in the last 14 days (2.0 a week): 4 remaining, projected 2026-03-30, deadline 2026-04-30"},
		// 2 closed in 14 days: 1 a week; 8 remaining take 56 days: 11 May; a deadline of 15 April is missed.
		{"at risk", Phase{StartedAt: start, Deadline: ParseDeadline("2026-04-15"), Items: items(8, 4, 10)}, at(14), AtRisk, "2026-05-11", "after the deadline 2026-04-15"},
		{"projected on the deadline's day is on track", Phase{StartedAt: start, Deadline: ParseDeadline("2026-05-11"), Items: items(8, 4, 10)}, at(14), OnTrack, "2026-05-11", ""},
		{"deadline already passed, with a projection", Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-10"), Items: items(4, 2, 5, 9, 12)}, at(14), Late, "2026-03-30", "deadline 2026-03-10 passed"},
		{"deadline already passed, without data", Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-10"), Items: items(4)}, at(14), Late, "", "deadline 2026-03-10 passed; no item closed yet"},
		{"late from the day after the deadline, not on it", Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-16"), Items: items(4, 2, 5, 9, 12)}, time.Date(2026, 3, 16, 23, 59, 0, 0, time.UTC), AtRisk, "2026-03-30", ""},
		{"finished phase", Phase{StartedAt: start, CompletedAt: at(20), Deadline: deadline, Items: items(0, 5, 20)}, at(40), Completed, "2026-03-22", "completed on 2026-03-22"},
		{"finished after its deadline", Phase{StartedAt: start, CompletedAt: at(70), Deadline: deadline, Items: items(0, 5, 70)}, at(80), Completed, "2026-05-11", "after its deadline of 2026-04-30"},
		{"all closed, waiting for exit criteria", Phase{StartedAt: start, Deadline: deadline, Items: items(0, 1, 2)}, at(10), OnTrack, "2026-03-12", "waits for its exit criteria"},
		{"no deadline", Phase{StartedAt: start, Items: items(4, 2, 5, 9, 12)}, at(14), NoDeadline, "2026-03-30", "projected 2026-03-30"},
		{"obsolete work counts nowhere", Phase{StartedAt: start, Deadline: deadline, Items: append(items(4, 2, 5, 9, 12), Item{Obsolete: true}, Item{Obsolete: true, Closed: true, ClosedAt: at(3)})}, at(14), OnTrack, "2026-03-30", "4 remaining"},
		{"too slow to say", Phase{StartedAt: start, Deadline: deadline, Items: items(100000, 20, 25)}, at(28), AtRisk, "", "more than 20 years"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, tc.now, Options{})
			got := ""
			if !f.Projected.IsZero() {
				got = f.Projected.UTC().Format(time.DateOnly)
			}
			if f.Schedule != tc.want || got != tc.wantProjected || !strings.Contains(f.Reason, tc.wantReason) {
				t.Errorf("Project = %s, projected %q, %q; want %s, %q, reason with %q", f.Schedule, got, f.Reason, tc.want, tc.wantProjected, tc.wantReason)
			}
			if f.Remaining != f.Planned-f.Closed || f.Remaining < 0 {
				t.Errorf("remaining %d of planned %d, closed %d", f.Remaining, f.Planned, f.Closed)
			}
		})
	}
}

func TestProjectLateSince(t *testing.T) {
	p := Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-10"), Items: items(3, 1)}
	f := Project(p, at(30), Options{})
	if want := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC); !f.Since.Equal(want) {
		t.Errorf("late since %s, want %s", f.Since, want)
	}
	if f := Project(p, at(5), Options{}); !f.Since.IsZero() {
		t.Errorf("not late yet, but since %s", f.Since)
	}
}

// TestProjectMonths follows a phase day by day for four months on a
// fixed clock: the forecast moves from no data to on track, to at risk
// when closing slows, and to late after the deadline.
func TestProjectMonths(t *testing.T) {
	var its []Item
	for i := 0; i < 30; i++ {
		its = append(its, Item{OpenedAt: start})
	}
	// One close every 2 days for 40 days, then one every 10 days.
	next := 0
	for d := 2.0; d < 120 && next < 30; {
		its[next].Closed, its[next].ClosedAt = true, at(d)
		next++
		if d < 40 {
			d += 2
		} else {
			d += 10
		}
	}
	p := Phase{StartedAt: start, Deadline: ParseDeadline("2026-05-31"), Items: its}
	seen := map[Schedule]int{}
	var order []Schedule
	for d := 0; d <= 120; d++ {
		f := Project(p, at(float64(d)), Options{})
		if len(order) == 0 || order[len(order)-1] != f.Schedule {
			order = append(order, f.Schedule)
		}
		seen[f.Schedule]++
	}
	if got, want := fmt.Sprint(order), "[NotEnoughData OnTrack AtRisk Late]"; got != want {
		t.Errorf("schedules over four months: %s, want %s", got, want)
	}
}

func TestSeries(t *testing.T) {
	tests := []struct {
		name  string
		phase Phase
		now   time.Time
		want  string
	}{
		{"not started", Phase{Items: items(3)}, at(5), "[]"},
		{"nothing closed", Phase{StartedAt: start, Items: items(3)}, at(5), "[0:0/3 5:0/3]"},
		{"steps at each close, same-time closes merged", Phase{StartedAt: start, Items: items(2, 1, 3, 3)}, at(5), "[0:0/5 1:1/5 3:3/5 5:3/5]"},
		{"ends when the phase completed", Phase{StartedAt: start, CompletedAt: at(4), Items: items(0, 1, 4)}, at(9), "[0:0/2 1:1/2 4:2/2]"},
		{"closed at an unknown time counts from the start", Phase{StartedAt: start, Items: append(items(1, 2), Item{Closed: true})}, at(3), "[0:1/3 2:2/3 3:2/3]"},
		{"obsolete left out", Phase{StartedAt: start, Items: append(items(1, 2), Item{Obsolete: true, Closed: true, ClosedAt: at(1)})}, at(3), "[0:0/2 2:1/2 3:1/2]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var parts []string
			for _, s := range Series(tc.phase, tc.now) {
				parts = append(parts, fmt.Sprintf("%g:%d/%d", s.At.Sub(start).Hours()/24, s.Closed, s.Planned))
			}
			if got := "[" + strings.Join(parts, " ") + "]"; got != tc.want {
				t.Errorf("Series = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestColumns(t *testing.T) {
	show := func(cs []Column) string {
		var parts []string
		for _, c := range cs {
			s := fmt.Sprintf("%s:%d/%d", c.Day.Format("01-02"), c.Closed, c.Planned)
			if c.Projected {
				s += "*"
			}
			if c.Deadline {
				s += "!"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	onTrack := Phase{StartedAt: start, Deadline: ParseDeadline("2026-04-30"), Items: items(4, 2, 5, 9, 12)}
	tests := []struct {
		name  string
		phase Phase
		now   time.Time
		n     int
		want  string
	}{
		{"not started", Phase{Items: items(2)}, at(3), 5, ""},
		{"to the deadline, forecast after today, capped at the plan", onTrack, at(14), 4,
			"03-02:0/8 03-22:5/8* 04-10:8/8* 04-30:8/8*!"},
		{"to today when the deadline passed", Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-05"), Items: items(2, 1, 3)}, at(4), 5,
			"03-02:0/4 03-03:1/4 03-04:1/4 03-05:2/4! 03-06:2/4"},
		{"to the projection when after the deadline, which takes the nearest column", Phase{StartedAt: start, Deadline: ParseDeadline("2026-03-20"), Items: items(8, 4, 10)}, at(14), 3,
			"03-02:0/10 03-20:2/10*! 05-11:10/10*"},
		{"a finished phase ends on its last day", Phase{StartedAt: start, CompletedAt: at(3), Deadline: ParseDeadline("2026-04-30"), Items: items(0, 1, 3)}, at(30), 9,
			"03-02:0/2 03-03:1/2 03-04:1/2 03-05:2/2"},
		{"started today", Phase{StartedAt: start, Items: items(2)}, start.Add(time.Hour), 5,
			"03-02:0/2 03-03:0/2*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Project(tc.phase, tc.now, Options{})
			if got := show(Columns(tc.phase, f, tc.now, tc.n)); got != tc.want {
				t.Errorf("Columns = %s\nwant      %s", got, tc.want)
			}
		})
	}
}
