package review

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Errors returned by Parse. They are wrapped with details, so compare them
// with errors.Is. All of them mean the spec can never work as written: the
// controller should report them (Warning Event, Stalled condition) and wait
// for the spec to change rather than retry.
var (
	// ErrInvalidSchedule means spec.review.schedule is not a standard
	// five-field cron expression or a supported descriptor.
	ErrInvalidSchedule = errors.New("invalid review schedule")
	// ErrTimeZoneInSchedule means the schedule carries a TZ= or CRON_TZ=
	// prefix; as with CronJob, the time zone belongs in spec.review.timeZone.
	ErrTimeZoneInSchedule = errors.New("review schedule must not contain TZ= or CRON_TZ=; use spec.review.timeZone")
	// ErrInvalidTimeZone means spec.review.timeZone is not a known IANA
	// time zone name.
	ErrInvalidTimeZone = errors.New("invalid review time zone")
	// ErrNeverFires means the schedule is well-formed but names a date that
	// does not exist, such as 31 February, so no review would ever be due.
	ErrNeverFires = errors.New("review schedule never fires")
	// ErrTooFrequent means an @every interval is shorter than MinInterval.
	ErrTooFrequent = errors.New("review schedule is too frequent")
)

// MinInterval is the shortest @every interval Parse accepts. Review keys
// have minute resolution (as CronJob job names do), so two reviews may not be
// scheduled within the same minute.
const MinInterval = time.Minute

// quarterly is the expansion of the @quarterly descriptor, which robfig/cron
// lacks: midnight on the first day of each quarter.
const quarterly = "0 0 1 1,4,7,10 *"

// neverFiresProbe is the fixed instant from which Parse looks for a first
// firing. robfig/cron searches five years ahead, and every satisfiable
// standard schedule fires at least once in any five-year window, so the
// choice of instant does not matter; fixing it keeps Parse independent of
// the clock.
var neverFiresProbe = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Schedule is a parsed review cadence in a time zone.
//
// The zero Schedule never fires: Next returns the zero time and Due returns
// an empty Decision.
type Schedule struct {
	cron     cron.Schedule
	location *time.Location
	spec     string
}

// Parse parses spec.review.schedule and spec.review.timeZone.
//
// spec is a standard five-field cron expression (minute hour day-of-month
// month day-of-week, as in CronJob) or one of the descriptors @yearly,
// @annually, @quarterly (midnight on 1 January, April, July and October),
// @monthly, @weekly, @daily (or @midnight), @hourly and @every <duration>
// (at least MinInterval). Field-based schedules are evaluated in timeZone;
// "" means UTC. @every ticks at a fixed interval counted from the previous
// review (or the journey's creation) and ignores the time zone.
//
// Parse rejects a TZ= or CRON_TZ= prefix in spec, an unknown time zone
// (including "Local", which would depend on the operator's host), and a
// schedule that can never fire, such as "0 0 31 2 *".
func Parse(spec, timeZone string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Schedule{}, fmt.Errorf("%w: schedule is empty", ErrInvalidSchedule)
	}
	if strings.Contains(strings.ToUpper(spec), "TZ=") {
		return Schedule{}, fmt.Errorf("%w: %q", ErrTimeZoneInSchedule, spec)
	}

	loc, err := loadLocation(timeZone)
	if err != nil {
		return Schedule{}, err
	}

	expr := spec
	if expr == "@quarterly" {
		expr = quarterly
	}
	parsed, err := cron.ParseStandard(expr)
	if err != nil {
		return Schedule{}, fmt.Errorf("%w %q: %v", ErrInvalidSchedule, spec, err)
	}

	switch c := parsed.(type) {
	case *cron.SpecSchedule:
		// robfig/cron defaults to time.Local, which would make the schedule
		// follow the zone of whatever time is passed in.
		c.Location = loc
		if c.Next(neverFiresProbe.In(loc)).IsZero() {
			return Schedule{}, fmt.Errorf("%w: %q names no date that exists", ErrNeverFires, spec)
		}
	case cron.ConstantDelaySchedule:
		if c.Delay < MinInterval {
			return Schedule{}, fmt.Errorf("%w: %q is shorter than %s", ErrTooFrequent, spec, MinInterval)
		}
	}

	return Schedule{cron: parsed, location: loc, spec: spec}, nil
}

// loadLocation resolves spec.review.timeZone; "" is UTC.
func loadLocation(timeZone string) (*time.Location, error) {
	if timeZone == "" {
		return time.UTC, nil
	}
	if timeZone == "Local" {
		return nil, fmt.Errorf("%w %q: the operator's local zone is not allowed, name an IANA zone such as Europe/Amsterdam", ErrInvalidTimeZone, timeZone)
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidTimeZone, timeZone, err)
	}
	return loc, nil
}

// String returns the schedule as written in spec.review.schedule.
func (s Schedule) String() string { return s.spec }

// Location returns the time zone the schedule is evaluated in (UTC when
// spec.review.timeZone is empty). It is nil for the zero Schedule.
func (s Schedule) Location() *time.Location { return s.location }

// Next returns the first scheduled review time strictly after the given time,
// in the location of after. For @every schedules this is simply after plus
// the interval (truncated to the second); use Due to follow a series of
// @every reviews anchored at the previous review.
// It returns the zero time for the zero Schedule.
func (s Schedule) Next(after time.Time) time.Time {
	if s.cron == nil {
		return time.Time{}
	}
	return s.cron.Next(after)
}
