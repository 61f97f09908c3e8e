package review

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// fuzzEpoch and fuzzSpan bound the instants the fuzzer picks: 2000 to
// about 2090, so that every schedule Parse accepts (29 February included)
// fires within robfig/cron's five-year search from any of them.
var (
	fuzzEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	fuzzSpan  = int64(90 * 365 * 24 * time.Hour / time.Second)
)

func fuzzInstant(sec int64) time.Time {
	if sec < 0 {
		sec = -(sec + 1)
	}
	return fuzzEpoch.Add(time.Duration(sec%fuzzSpan) * time.Second)
}

// FuzzSchedule: Parse takes whatever a person writes in spec.review without
// panicking, refuses it with one of its errors or returns a schedule whose
// next review is always later, in the schedule's own time zone whatever the
// zone of the clock, and Due never opens a review before it is due.
func FuzzSchedule(f *testing.F) {
	for _, seed := range []struct {
		spec, tz string
	}{
		{"@quarterly", "Europe/Amsterdam"},
		{"0 9 * * 1", "America/New_York"},
		{"30 2 * * *", "Europe/Amsterdam"}, // 02:30 does not exist on the spring change
		{"0 0 * * *", "America/Santiago"},  // midnight does not exist on the spring change
		{"0 0 * * *", "America/Havana"},
		{"15 0 * * *", "Asia/Beirut"},
		{"0 0 29 2 *", "Pacific/Apia"}, // skipped 30 December 2011
		{"*/30 * * * *", "Australia/Lord_Howe"},
		{"0 0 31 2 *", ""},
		{"@every 1h30m", "Asia/Kolkata"},
		{"@every 59s", ""},
		{"CRON_TZ=UTC 0 9 * * 1", ""},
		{"0 9 * * MON-FRI", "Local"},
		{"0 9 1-7 * 1", "Mars/Olympus"},
		{"59 23 31 12 7", "Etc/GMT+12"},
		{"@weekly", "../../etc/passwd"},
		{"0-59/0 * * * *", ""},
		{"* * * * * *", ""},
	} {
		f.Add(seed.spec, seed.tz, int64(26*365*24*3600), int64(3600), int64(-90*24*3600), int64(3600))
	}
	zones := []*time.Location{time.UTC, mustLoad(f, "Asia/Tokyo"), mustLoad(f, "America/Los_Angeles")}
	f.Fuzz(func(t *testing.T, spec, tz string, at, lastAgo, createdAgo, deadline int64) {
		s, err := Parse(spec, tz)
		if err != nil {
			if !errors.Is(err, ErrInvalidSchedule) && !errors.Is(err, ErrTimeZoneInSchedule) && !errors.Is(err, ErrInvalidTimeZone) &&
				!errors.Is(err, ErrNeverFires) && !errors.Is(err, ErrTooFrequent) {
				t.Fatalf("Parse(%q, %q): an error of no kind: %v", spec, tz, err)
			}
			return
		}
		if s.Location() == nil || s.String() != strings.TrimSpace(spec) {
			t.Fatalf("Parse(%q, %q) = %q in %v", spec, tz, s.String(), s.Location())
		}
		_, every := s.cron.(cron.ConstantDelaySchedule)

		now := fuzzInstant(at)
		next := s.Next(now)
		if !next.After(now) {
			t.Fatalf("%q in %q: Next(%v) = %v, not later", spec, tz, now, next)
		}
		if !every {
			// The schedule reads the clock in its own zone: the zone of the
			// time handed in changes nothing.
			for _, z := range zones {
				if other := s.Next(now.In(z)); !other.Equal(next) {
					t.Fatalf("%q in %q: Next from %v is %v, from the same instant in UTC %v", spec, tz, now.In(z), other, next)
				}
			}
			if local := next.In(s.Location()); local.Second() != 0 || local.Nanosecond() != 0 {
				t.Fatalf("%q in %q: Next is %v, not on a minute", spec, tz, local)
			}
		}

		// Due, with the last review and the journey's creation anywhere
		// up to a few years before now (or, with a skewed clock, after it).
		ago := func(d int64) time.Time { return now.Add(-time.Duration(d%(5*365*24*3600)) * time.Second) }
		created := ago(createdAgo)
		var last time.Time
		if lastAgo%3 != 0 {
			last = ago(lastAgo)
		}
		var dl *int64
		if deadline%2 == 0 {
			dl = &deadline
		}
		d := s.Due(created, last, now, dl)
		earliest := last
		if earliest.IsZero() {
			earliest = created
		}
		if !d.ScheduledTime.IsZero() {
			if d.ScheduledTime.After(now) {
				t.Fatalf("%q: Due at %v opens the review of %v, in the future", spec, now, d.ScheduledTime)
			}
			if !d.ScheduledTime.After(earliest) {
				t.Fatalf("%q: Due opens the review of %v again (last %v, created %v)", spec, d.ScheduledTime, last, created)
			}
		} else if d.Missed > 0 || d.TooLate {
			t.Fatalf("%q: nothing due, but %d missed, too late %v", spec, d.Missed, d.TooLate)
		}
		if d.Missed < 0 || d.Missed > MaxCountedMissed || (d.ManyMissed && d.Missed != MaxCountedMissed) {
			t.Fatalf("%q: missed %d (many %v)", spec, d.Missed, d.ManyMissed)
		}
		if !d.Next.IsZero() && !d.Next.After(now) {
			t.Fatalf("%q: the next review %v is not after now %v", spec, d.Next, now)
		}
		if w := d.RequeueAfter(now); w < 0 {
			t.Fatalf("%q: requeue after %v", spec, w)
		}
	})
}
