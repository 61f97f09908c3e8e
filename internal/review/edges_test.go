package review

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestDeadlineConversion(t *testing.T) {
	for _, tc := range []struct {
		seconds int64
		want    time.Duration
	}{
		{-5, 0},
		{0, 0},
		{1, time.Second},
		{3600, time.Hour},
		{int64(math.MaxInt64 / time.Second), time.Duration(int64(math.MaxInt64/time.Second)) * time.Second},
		{int64(math.MaxInt64/time.Second) + 1, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64},
	} {
		if got := deadline(tc.seconds); got != tc.want {
			t.Errorf("deadline(%d) = %s, want %s", tc.seconds, got, tc.want)
		}
	}
}

// TestScheduledTimeOfRefusesLookalikes: only a key ReviewKey could have
// made is read back.
func TestScheduledTimeOfRefusesLookalikes(t *testing.T) {
	for _, bad := range []string{
		"Review-202601050900", "review-202613050900", "review-202601320900", "review-202601052500",
		"review-202601050900 ", " review-202601050900", "review-20260105090", "review-2026010509000",
		"review-+02601050900", "review-２０２６01050900",
	} {
		if got, ok := ScheduledTimeOf(bad); ok {
			t.Errorf("ScheduledTimeOf(%q) = %s, accepted", bad, got)
		}
	}
	if got, ok := ScheduledTimeOf("review-202602282359"); !ok || !got.Equal(time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("ScheduledTimeOf of a valid key = %s, %v", got, ok)
	}
}

func TestParseSpellings(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want error
	}{
		{"tz=UTC 0 9 * * 1", ErrTimeZoneInSchedule},
		{"cron_tz=UTC 0 9 * * 1", ErrTimeZoneInSchedule},
		{"0 9 * * 1 TZ=UTC", ErrTimeZoneInSchedule},
		{"\t@weekly\n", nil},
		{"@every 1h30m", nil},
		{"@every 59s", ErrTooFrequent},
		{"@every -1h", ErrTooFrequent}, // a negative interval is refused, never a review per reconcile
	} {
		_, err := Parse(tc.spec, "")
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Parse(%q) = %v, want %v", tc.spec, err, tc.want)
		}
	}
}
