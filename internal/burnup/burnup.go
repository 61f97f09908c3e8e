// Package burnup computes a phase's burn-up (work planned against work
// closed over time) and forecasts when the phase will finish, from the
// openedAt and closedAt of its items. It has no Kubernetes imports and no
// clock of its own: every function takes the time, so tests build months of
// history on fixed dates.
//
// The forecast. The closing rate is the number of items closed in the last
// Window (28 days, or since the phase started if that is later) divided by
// that time. The remaining items (planned, not closed) at that rate give the
// projected completion: now + remaining / rate. There is no projection
// (NotEnoughData) while fewer than MinCloses items closed in the window or
// the window is shorter than MinObserved (7 days): a rate from two closes
// on the first afternoon is not a forecast. A phase whose projection falls
// after the day of its deadline is AtRisk; one still open after that day is
// Late.
package burnup

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Item is one piece of a phase's work.
type Item struct {
	// OpenedAt is when its issue was opened; zero while planned.
	OpenedAt time.Time
	// Closed says the work is done; ClosedAt is when (zero if unknown).
	Closed   bool
	ClosedAt time.Time
	// Obsolete work no longer follows from the map: it counts nowhere.
	Obsolete bool
}

// Phase is what the burn-up is computed from.
type Phase struct {
	// StartedAt is when the phase became active; zero while it has not.
	StartedAt time.Time
	// CompletedAt is when it met its exit criteria; zero while it has not.
	CompletedAt time.Time
	// Completed says the phase is complete even if CompletedAt is unknown.
	Completed bool
	// Deadline is the day (any time in it; UTC) the phase should be
	// complete by; zero when there is none.
	Deadline time.Time
	Items    []Item
}

// ParseDeadline reads a YYYY-MM-DD deadline; "" or a malformed date is no deadline.
func ParseDeadline(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}
	}
	return d
}

// dueEnd is the end of the deadline's day: the phase is late from then on.
func dueEnd(deadline time.Time) time.Time {
	d := deadline.UTC()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

// Sample is the burn-up at one time.
type Sample struct {
	At time.Time
	// Closed is the work closed by At.
	Closed int
	// Planned is the work planned: every item that is not obsolete.
	Planned int
}

// Planned counts the items that are not obsolete: the scope as planned today.
func (p Phase) Planned() int {
	n := 0
	for _, it := range p.Items {
		if !it.Obsolete {
			n++
		}
	}
	return n
}

// closeTimes are the times work was closed, in order; work closed at an
// unknown time counts as closed when the phase started.
func (p Phase) closeTimes() []time.Time {
	var out []time.Time
	for _, it := range p.Items {
		if it.Obsolete || !it.Closed {
			continue
		}
		t := it.ClosedAt
		if t.IsZero() {
			t = p.StartedAt
		}
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Before(out[b]) })
	return out
}

// closedBy counts the work closed at or before t.
func closedBy(closes []time.Time, t time.Time) int {
	return sort.Search(len(closes), func(i int) bool { return closes[i].After(t) })
}

// Series is the burn-up as steps: one sample when the phase started, one
// at each close, and one at the end (now, or when the phase completed).
// Closes at the same time make one sample. Nil when the phase has not started.
func Series(p Phase, now time.Time) []Sample {
	if p.StartedAt.IsZero() {
		return nil
	}
	end := now
	if !p.CompletedAt.IsZero() && p.CompletedAt.Before(end) {
		end = p.CompletedAt
	}
	planned := p.Planned()
	closes := p.closeTimes()
	out := []Sample{{At: p.StartedAt, Closed: closedBy(closes, p.StartedAt), Planned: planned}}
	for i, t := range closes {
		if !t.After(p.StartedAt) || t.After(end) || (i+1 < len(closes) && closes[i+1].Equal(t)) {
			continue
		}
		out = append(out, Sample{At: t, Closed: i + 1, Planned: planned})
	}
	if last := out[len(out)-1]; end.After(last.At) {
		out = append(out, Sample{At: end, Closed: closedBy(closes, end), Planned: planned})
	}
	return out
}

// Schedule says whether a phase will make its deadline.
type Schedule string

const (
	// NotStarted: the phase has not started (it waits for the one before it).
	NotStarted Schedule = "NotStarted"
	// OnTrack: the projected completion is on or before the deadline.
	OnTrack Schedule = "OnTrack"
	// AtRisk: the projected completion is after the deadline.
	AtRisk Schedule = "AtRisk"
	// Late: the deadline's day has gone by and the phase is not complete.
	Late Schedule = "Late"
	// Completed: the phase is complete.
	Completed Schedule = "Completed"
	// NotEnoughData: too little has closed yet to project a date.
	NotEnoughData Schedule = "NotEnoughData"
	// NoDeadline: a projection, but no deadline to hold it against.
	NoDeadline Schedule = "NoDeadline"
)

// Words says the schedule to a person: "on track", "at risk", "late", …
func (s Schedule) Words() string {
	switch s {
	case OnTrack:
		return "on track"
	case AtRisk:
		return "at risk"
	case Late:
		return "late"
	case Completed:
		return "completed"
	case NotEnoughData:
		return "not enough data"
	case NoDeadline:
		return "no deadline"
	}
	return "not started"
}

// Options tune the forecast; zero fields take the defaults.
type Options struct {
	// Window is how far back closes count towards the rate: 28 days.
	Window time.Duration
	// MinCloses is the fewest closes in the window for a projection: 2.
	MinCloses int
	// MinObserved is the shortest window for a projection: 7 days.
	MinObserved time.Duration
}

// Defaults of Options.
const (
	DefaultWindow      = 28 * 24 * time.Hour
	DefaultMinCloses   = 2
	DefaultMinObserved = 7 * 24 * time.Hour
	// maxHorizon bounds a projection: beyond it there is no date, only "not at this rate".
	maxHorizon = 20 * 365 * 24 * time.Hour
)

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MinCloses <= 0 {
		o.MinCloses = DefaultMinCloses
	}
	if o.MinObserved <= 0 {
		o.MinObserved = DefaultMinObserved
	}
	return o
}

// Forecast is where a phase stands against its deadline.
type Forecast struct {
	Schedule Schedule
	// Planned and Closed are today's burn-up; Remaining is Planned − Closed.
	Planned, Closed, Remaining int
	// RecentCloses closed in the last Observed, which gives RatePerDay.
	RecentCloses int
	Observed     time.Duration
	RatePerDay   float64
	// Projected is when the phase is expected to be (or was) complete;
	// zero when there is not enough data.
	Projected time.Time
	// Since is when a Late phase became late (the end of its deadline's day).
	Since time.Time
	// Reason says in a sentence how the schedule was found.
	Reason string
}

// PerWeek is the closing rate in items a week.
func (f Forecast) PerWeek() float64 { return f.RatePerDay * 7 }

// Project forecasts phase p's completion at time now.
func Project(p Phase, now time.Time, o Options) Forecast {
	o = o.withDefaults()
	closes := p.closeTimes()
	f := Forecast{Planned: p.Planned(), Closed: closedBy(closes, now)}
	f.Remaining = max(0, f.Planned-f.Closed)
	hasDeadline := !p.Deadline.IsZero()
	var due time.Time
	if hasDeadline {
		due = dueEnd(p.Deadline)
	}
	deadline := p.Deadline.UTC().Format(time.DateOnly)

	switch {
	case p.Completed && p.CompletedAt.IsZero():
		f.Schedule, f.Reason = Completed, "completed"
		return f
	case !p.CompletedAt.IsZero():
		f.Schedule, f.Projected = Completed, p.CompletedAt
		f.Reason = "completed on " + day(p.CompletedAt)
		if hasDeadline && !p.CompletedAt.Before(due) {
			f.Reason += ", after its deadline of " + deadline
		}
		return f
	}
	late := hasDeadline && !now.Before(due)
	if late {
		f.Since = due
	}
	if p.StartedAt.IsZero() {
		f.Schedule, f.Reason = NotStarted, "not started"
		if late {
			f.Schedule, f.Reason = Late, "not started; deadline "+deadline+" passed"
		}
		return f
	}
	if f.Remaining == 0 {
		f.Projected = now
		f.Schedule, f.Reason = scheduleFor(late, hasDeadline, false), "all work is closed; the phase waits for its exit criteria"
		return f
	}

	from := now.Add(-o.Window)
	if p.StartedAt.After(from) {
		from = p.StartedAt
	}
	f.Observed = max(0, now.Sub(from))
	for _, t := range closes {
		if t.After(from) && !t.After(now) {
			f.RecentCloses++
		}
	}
	// Whole days, so that the rate (and the status that shows it) changes
	// once a day, not at every reconcile.
	days := math.Floor(f.Observed.Hours() / 24)
	switch {
	case len(closes) == 0:
		f.Reason = "no item closed yet: not enough data for a forecast"
	case f.Observed < o.MinObserved:
		f.Reason = fmt.Sprintf("started %s ago: a forecast needs %s of closing", daysText(f.Observed.Hours()/24), daysText(o.MinObserved.Hours()/24))
	case f.RecentCloses < o.MinCloses:
		f.Reason = fmt.Sprintf("%d closed in the last %s: a forecast needs %d", f.RecentCloses, daysText(days), o.MinCloses)
	default:
		if days < 1 { // only with MinObserved under a day
			days = f.Observed.Hours() / 24
		}
		f.RatePerDay = float64(f.RecentCloses) / days
		ahead := time.Duration(float64(f.Remaining) / f.RatePerDay * float64(24*time.Hour))
		rate := fmt.Sprintf("%d closed in the last %s (%.1f a week)", f.RecentCloses, daysText(days), f.PerWeek())
		if ahead > maxHorizon || ahead < 0 {
			f.Schedule = scheduleFor(late, hasDeadline, hasDeadline)
			f.Reason = fmt.Sprintf("%s: %d remaining would take more than 20 years", rate, f.Remaining)
			return f
		}
		f.Projected = now.Add(ahead)
		after := hasDeadline && !f.Projected.Before(due)
		f.Schedule = scheduleFor(late, hasDeadline, after)
		f.Reason = fmt.Sprintf("%s: %d remaining, projected %s", rate, f.Remaining, day(f.Projected))
		switch {
		case late:
			f.Reason += ", deadline " + deadline + " passed"
		case after:
			f.Reason += ", after the deadline " + deadline
		case hasDeadline:
			f.Reason += ", deadline " + deadline
		}
		return f
	}
	// No projection.
	f.Schedule = NotEnoughData
	if late {
		f.Schedule = Late
		f.Reason = "deadline " + deadline + " passed; " + f.Reason
	}
	return f
}

func scheduleFor(late, hasDeadline, after bool) Schedule {
	switch {
	case late:
		return Late
	case !hasDeadline:
		return NoDeadline
	case after:
		return AtRisk
	}
	return OnTrack
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// daysText shows whole days.
func daysText(d float64) string {
	switch n := int(d); n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}

// Column is the burn-up at the end of one day, for a chart with a column
// per day: what had closed by then, or, after today, what is projected to.
type Column struct {
	Day     time.Time // midnight UTC
	Closed  int
	Planned int
	// Projected marks a day after today: Closed is the forecast's.
	Projected bool
	// Deadline marks the deadline's day.
	Deadline bool
}

// Columns samples the burn-up on at most n days (at least 2), evenly from
// the day the phase started to the last of today, its deadline and its
// projected completion (when within a year of today). Days after today carry
// the forecast at the recent rate, capped at the planned work. Nil when the
// phase has not started.
func Columns(p Phase, f Forecast, now time.Time, n int) []Column {
	if p.StartedAt.IsZero() {
		return nil
	}
	n = max(n, 2)
	first := midnight(p.StartedAt)
	today := midnight(now)
	if !p.CompletedAt.IsZero() && p.CompletedAt.Before(now) {
		today = midnight(p.CompletedAt)
	}
	last := today
	if p.CompletedAt.IsZero() {
		horizon := today.AddDate(1, 0, 0)
		if d := midnight(p.Deadline); !p.Deadline.IsZero() && d.After(last) && !d.After(horizon) {
			last = d
		}
		if d := midnight(f.Projected); !f.Projected.IsZero() && d.After(last) && !d.After(horizon) {
			last = d
		}
	}
	if !last.After(first) {
		last = first.AddDate(0, 0, 1)
	}
	span := int(last.Sub(first).Hours()/24 + 0.5)
	n = min(n, span+1)
	closes := p.closeTimes()
	planned := p.Planned()
	days := make([]time.Time, n)
	for i := range days {
		days[i] = first.AddDate(0, 0, int(math.Round(float64(i*span)/float64(n-1))))
	}
	// The deadline's day, when in the span, takes the place of the nearest
	// inner column: the first and the last (today, the deadline or the
	// projection) stay.
	deadline := midnight(p.Deadline)
	if !p.Deadline.IsZero() && !deadline.Before(first) && !deadline.After(last) && !slices.ContainsFunc(days, deadline.Equal) && n > 2 {
		near := 1
		for i := 2; i < n-1; i++ {
			if absDuration(days[i].Sub(deadline)) < absDuration(days[near].Sub(deadline)) {
				near = i
			}
		}
		days[near] = deadline
	}
	out := make([]Column, 0, n)
	for _, d := range days {
		c := Column{Day: d, Planned: planned, Deadline: !p.Deadline.IsZero() && d.Equal(deadline)}
		end := d.AddDate(0, 0, 1)
		switch {
		case d.After(today):
			c.Projected = true
			c.Closed = f.Closed
			if f.RatePerDay > 0 {
				c.Closed = min(planned, f.Closed+int(math.Floor(f.RatePerDay*end.Sub(now).Hours()/24)))
			}
		case end.After(now):
			c.Closed = closedBy(closes, now)
		default:
			c.Closed = closedBy(closes, end.Add(-time.Nanosecond))
		}
		out = append(out, c)
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func midnight(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}
