package review

import (
	"math"
	"time"

	"github.com/robfig/cron/v3"
)

// MaxCountedMissed is how many passed-over review times Due counts exactly.
// Beyond it Due stops counting, reports Missed = MaxCountedMissed and sets
// ManyMissed, like the CronJob controller's "too many missed start times
// (> 100)". The most recent scheduled time is still found exactly, without
// stepping through every missed time.
const MaxCountedMissed = 100

// Decision is what a reconcile must do about a journey's review cadence at a
// given moment. The zero Decision means nothing is due and nothing is known
// about the next review.
type Decision struct {
	// ScheduledTime is the most recent scheduled review time in (last, now],
	// or the zero time if none has come up since the last review. At most one
	// review is ever due: after downtime this is the single catch-up review.
	ScheduledTime time.Time
	// Missed is how many earlier scheduled times in (last, ScheduledTime)
	// were passed over without a review, capped at MaxCountedMissed. It does
	// not include ScheduledTime itself, even when TooLate.
	Missed int
	// ManyMissed reports that more than MaxCountedMissed times were passed
	// over; Missed then holds MaxCountedMissed. A controller should warn:
	// the operator was down for long or a clock is skewed.
	ManyMissed bool
	// TooLate reports that ScheduledTime is older than
	// startingDeadlineSeconds allows, so it must be recorded as missed
	// instead of opened. The caller should still treat ScheduledTime as
	// handled (pass it as last next time); otherwise every reconcile will
	// report the same miss again, as the CronJob controller does.
	TooLate bool
	// Next is the first scheduled review time strictly after now, for
	// status.nextReviewTime and the requeue delay (see RequeueAfter).
	Next time.Time
}

// ShouldOpen reports whether a review must be opened now, for ScheduledTime
// (named by ReviewKey(ScheduledTime)).
func (d Decision) ShouldOpen() bool {
	return !d.ScheduledTime.IsZero() && !d.TooLate
}

// RequeueAfter returns how long after now the next review falls due, for a
// controller's RequeueAfter; 0 if Next is unknown.
func (d Decision) RequeueAfter(now time.Time) time.Duration {
	if d.Next.IsZero() {
		return 0
	}
	if wait := d.Next.Sub(now); wait > 0 {
		return wait
	}
	return 0
}

// Due decides what a reconcile at now must do, as the CronJob controller
// does for a CronJob.
//
// last is the scheduled time of the last review handled (opened, or recorded
// as missed because it was too late); it is zero if there has been none, in
// which case scheduled times are counted from created, the journey's creation
// time. A scheduled time equal to last or created is not due again; one equal
// to now is due.
//
// Due returns the most recent scheduled time in (last, now] as the one review
// to open, how many earlier times in that range were passed over, whether the
// review is too late given startingDeadlineSeconds (nil means no deadline; a
// review is too late once now is more than that many seconds after its
// scheduled time), and the first scheduled time after now.
//
// If both last and created are zero, nothing is due and Next is counted from
// now. For @every schedules the series of review times is anchored at last
// (or created): with last at 09:00:00 and "@every 1h", reviews fall due at
// 10:00:00, 11:00:00 and so on.
func (s Schedule) Due(created, last, now time.Time, startingDeadlineSeconds *int64) Decision {
	if s.cron == nil {
		return Decision{}
	}
	earliest := last
	if earliest.IsZero() {
		earliest = created
	}
	if earliest.IsZero() {
		earliest = now
	}

	var d Decision
	var passedOver int
	d.ScheduledTime, passedOver = s.mostRecent(earliest, now)
	if passedOver > MaxCountedMissed {
		d.Missed, d.ManyMissed = MaxCountedMissed, true
	} else {
		d.Missed = passedOver
	}

	if !d.ScheduledTime.IsZero() && startingDeadlineSeconds != nil {
		d.TooLate = d.ScheduledTime.Add(deadline(*startingDeadlineSeconds)).Before(now)
	}

	// Count the next time from the last one in the series rather than from
	// now, so @every stays anchored; for field-based schedules both agree.
	anchor := d.ScheduledTime
	if anchor.IsZero() {
		anchor = earliest
	}
	d.Next = s.cron.Next(anchor)
	return d
}

// deadline converts startingDeadlineSeconds to a duration, treating negative
// values as zero and saturating instead of overflowing.
func deadline(seconds int64) time.Duration {
	switch {
	case seconds <= 0:
		return 0
	case seconds > int64(math.MaxInt64/time.Second):
		return math.MaxInt64
	default:
		return time.Duration(seconds) * time.Second
	}
}

// mostRecent returns the latest scheduled time in (earliest, now], or the
// zero time if there is none, and how many scheduled times in that range come
// before it. The count is exact up to MaxCountedMissed; past that it is only
// known to be larger, and MaxCountedMissed+1 is returned.
func (s Schedule) mostRecent(earliest, now time.Time) (time.Time, int) {
	first := s.cron.Next(earliest)
	if first.IsZero() || first.After(now) {
		return time.Time{}, 0
	}

	if every, ok := s.cron.(cron.ConstantDelaySchedule); ok {
		// first, first+Delay, first+2·Delay, ...: plain arithmetic, however
		// long the downtime. Parse guarantees Delay >= MinInterval.
		n := int64(now.Sub(first) / every.Delay)
		passed := MaxCountedMissed + 1
		if n <= MaxCountedMissed {
			passed = int(n)
		}
		return first.Add(time.Duration(n) * every.Delay), passed
	}

	// Field-based schedules are irregular (months, weekdays, DST), so step
	// through them, but only MaxCountedMissed times.
	t := first
	for passed := 0; passed <= MaxCountedMissed; passed++ {
		next := s.cron.Next(t)
		if next.IsZero() || next.After(now) {
			return t, passed
		}
		t = next
	}
	return s.latestUpTo(t, now), MaxCountedMissed + 1
}

// latestUpTo returns the latest scheduled time in [known, now], given that
// known is a scheduled time not after now. It bisects on "the first scheduled
// time after x is not after now", which holds exactly for x before the
// answer, so it costs O(log((now-known)/1s)) calls to Next instead of one per
// scheduled time (a million for a minutely schedule after two years down).
func (s Schedule) latestUpTo(known, now time.Time) time.Time {
	lo, hi := known, now // invariant: lo == known or Next(lo) <= now; Next(hi) > now
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if next := s.cron.Next(mid); !next.IsZero() && !next.After(now) {
			lo = mid
		} else {
			hi = mid
		}
	}
	latest := s.cron.Next(lo)
	if lo.Equal(known) || latest.IsZero() || latest.After(now) {
		latest = known
	}
	// Guard against any non-monotonic corner of the cron library: walk
	// forward to the true latest time (normally zero steps).
	for {
		next := s.cron.Next(latest)
		if next.IsZero() || next.After(now) {
			return latest
		}
		latest = next
	}
}
