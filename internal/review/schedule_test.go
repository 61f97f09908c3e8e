package review

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func mustParse(t testing.TB, spec, tz string) Schedule {
	t.Helper()
	s, err := Parse(spec, tz)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", spec, tz, err)
	}
	return s
}

// TestNext checks the cadence of each descriptor, time zones and both DST
// changes by following Next from a fixed instant.
func TestNext(t *testing.T) {
	ams := mustLoad(t, "Europe/Amsterdam")

	tests := []struct {
		name     string
		spec, tz string
		after    time.Time
		want     []time.Time // successive firings, compared as instants
	}{
		{
			name: "@yearly fires at midnight on 1 January",
			spec: "@yearly", after: utc(2026, 3, 10, 12, 0),
			want: []time.Time{utc(2027, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0)},
		},
		{
			name: "@annually is @yearly",
			spec: "@annually", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2027, 1, 1, 0, 0)},
		},
		{
			name: "@quarterly fires on the first day of each quarter",
			spec: "@quarterly", after: utc(2026, 2, 15, 8, 0),
			want: []time.Time{utc(2026, 4, 1, 0, 0), utc(2026, 7, 1, 0, 0), utc(2026, 10, 1, 0, 0), utc(2027, 1, 1, 0, 0)},
		},
		{
			name: "@quarterly in a time zone is local midnight",
			spec: "@quarterly", tz: "Europe/Amsterdam", after: utc(2026, 2, 15, 8, 0),
			want: []time.Time{time.Date(2026, 4, 1, 0, 0, 0, 0, ams), time.Date(2026, 7, 1, 0, 0, 0, 0, ams)},
		},
		{
			name: "@monthly fires at midnight on the first",
			spec: "@monthly", after: utc(2026, 1, 31, 23, 59),
			want: []time.Time{utc(2026, 2, 1, 0, 0), utc(2026, 3, 1, 0, 0)},
		},
		{
			name: "@weekly fires at midnight on Sunday",
			spec: "@weekly", after: utc(2026, 1, 1, 0, 0), // a Thursday
			want: []time.Time{utc(2026, 1, 4, 0, 0), utc(2026, 1, 11, 0, 0)},
		},
		{
			name: "@daily fires at midnight",
			spec: "@daily", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2026, 1, 2, 0, 0), utc(2026, 1, 3, 0, 0)},
		},
		{
			name: "@hourly fires on the hour",
			spec: "@hourly", after: utc(2026, 1, 1, 10, 30),
			want: []time.Time{utc(2026, 1, 1, 11, 0), utc(2026, 1, 1, 12, 0)},
		},
		{
			name: "@every counts from the given time",
			spec: "@every 90m", after: utc(2026, 1, 1, 10, 7),
			want: []time.Time{utc(2026, 1, 1, 11, 37), utc(2026, 1, 1, 13, 7)},
		},
		{
			name: "five fields, no zone means UTC",
			spec: "0 9 * * 1", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2026, 1, 5, 9, 0), utc(2026, 1, 12, 9, 0)},
		},
		{
			name: "Monday 09:00 in Amsterdam winter is 08:00 UTC",
			spec: "0 9 * * 1", tz: "Europe/Amsterdam", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2026, 1, 5, 8, 0)},
		},
		{
			name: "half-hour zone: 09:00 in Kolkata is 03:30 UTC",
			spec: "0 9 * * *", tz: "Asia/Kolkata", after: utc(2026, 6, 1, 0, 0),
			want: []time.Time{utc(2026, 6, 1, 3, 30), utc(2026, 6, 2, 3, 30)},
		},
		{
			name: "southern hemisphere: 09:00 in Sydney in January is 22:00 UTC the day before",
			spec: "0 9 * * *", tz: "Australia/Sydney", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2026, 1, 1, 22, 0)},
		},
		{
			name: "Amsterdam spring-forward: 02:30 does not exist on 29 March and is skipped",
			spec: "30 2 * * *", tz: "Europe/Amsterdam", after: utc(2026, 3, 27, 12, 0),
			want: []time.Time{
				utc(2026, 3, 28, 1, 30), // 02:30 CET
				utc(2026, 3, 30, 0, 30), // 02:30 CEST; none on the 29th
			},
		},
		{
			name: "Amsterdam fall-back: 02:30 happens twice on 25 October and fires twice",
			spec: "30 2 * * *", tz: "Europe/Amsterdam", after: utc(2026, 10, 24, 12, 0),
			want: []time.Time{
				utc(2026, 10, 25, 0, 30), // 02:30 CEST
				utc(2026, 10, 25, 1, 30), // 02:30 CET
				utc(2026, 10, 26, 1, 30),
			},
		},
		{
			name: "New York fall-back on 1 November: Monday 09:00 local is 13:00 UTC before, 14:00 after",
			spec: "0 9 * * 1", tz: "America/New_York", after: utc(2026, 10, 20, 0, 0),
			want: []time.Time{utc(2026, 10, 26, 13, 0), utc(2026, 11, 2, 14, 0), utc(2026, 11, 9, 14, 0)},
		},
		{
			name: "New York spring-forward on 8 March: 14:00 UTC before, 13:00 after",
			spec: "0 9 * * 1", tz: "America/New_York", after: utc(2026, 2, 25, 0, 0),
			want: []time.Time{utc(2026, 3, 2, 14, 0), utc(2026, 3, 9, 13, 0)},
		},
		{
			name: "29 February fires only in leap years",
			spec: "0 0 29 2 *", after: utc(2026, 1, 1, 0, 0),
			want: []time.Time{utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0)},
		},
		{
			name: "day-of-month and day-of-week together mean either, as in cron",
			spec: "0 9 13 * 5", after: utc(2026, 2, 1, 0, 0), // Fridays and the 13th
			want: []time.Time{utc(2026, 2, 6, 9, 0), utc(2026, 2, 13, 9, 0), utc(2026, 2, 20, 9, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec, tt.tz)
			at := tt.after
			for i, want := range tt.want {
				got := s.Next(at)
				if !got.Equal(want) {
					t.Fatalf("firing %d after %s: got %s, want %s", i+1, at.UTC(), got.UTC(), want.UTC())
				}
				at = got
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		spec, tz string
		want     error
		mention  string // must appear in the message
	}{
		{name: "invalid zone is named", spec: "0 9 * * 1", tz: "Mars/Olympus_Mons", want: ErrInvalidTimeZone, mention: "Mars/Olympus_Mons"},
		{name: "zone with wrong case", spec: "0 9 * * 1", tz: "europe/amsterdam", want: ErrInvalidTimeZone, mention: "europe/amsterdam"},
		{name: "Local zone refused", spec: "0 9 * * 1", tz: "Local", want: ErrInvalidTimeZone, mention: "Local"},
		{name: "path escape in zone", spec: "0 9 * * 1", tz: "../etc/passwd", want: ErrInvalidTimeZone, mention: "../etc/passwd"},
		{name: "TZ= in spec", spec: "TZ=Europe/Amsterdam 0 9 * * 1", want: ErrTimeZoneInSchedule, mention: "timeZone"},
		{name: "CRON_TZ= in spec", spec: "CRON_TZ=UTC 0 9 * * 1", want: ErrTimeZoneInSchedule},
		{name: "TZ= in spec even with timeZone set", spec: "TZ=UTC 0 9 * * 1", tz: "UTC", want: ErrTimeZoneInSchedule},
		{name: "31 February never fires", spec: "0 0 31 2 *", want: ErrNeverFires, mention: "0 0 31 2 *"},
		{name: "30 February never fires", spec: "0 9 30 2 *", tz: "Europe/Amsterdam", want: ErrNeverFires},
		{name: "31st of the short months never fires", spec: "0 0 31 4,6,9,11 *", want: ErrNeverFires},
		{name: "empty", spec: "  ", want: ErrInvalidSchedule},
		{name: "minute out of range", spec: "61 * * * *", want: ErrInvalidSchedule, mention: "61 * * * *"},
		{name: "four fields", spec: "0 9 * *", want: ErrInvalidSchedule},
		{name: "six fields (seconds) are not standard", spec: "0 0 9 * * 1", want: ErrInvalidSchedule},
		{name: "unknown descriptor", spec: "@fortnightly", want: ErrInvalidSchedule},
		{name: "@reboot means nothing for a review", spec: "@reboot", want: ErrInvalidSchedule},
		{name: "@every without a duration", spec: "@every banana", want: ErrInvalidSchedule},
		{name: "@every under a minute", spec: "@every 30s", want: ErrTooFrequent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec, tt.tz)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q, %q) error = %v, want %v", tt.spec, tt.tz, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if s.cron != nil {
				t.Errorf("Parse returned a usable Schedule alongside an error")
			}
		})
	}
}

func TestParseAccessors(t *testing.T) {
	s := mustParse(t, " 0 9 * * 1 ", "")
	if s.Location() != time.UTC {
		t.Errorf("empty timeZone: Location() = %v, want UTC", s.Location())
	}
	if s.String() != "0 9 * * 1" {
		t.Errorf("String() = %q", s.String())
	}
	q := mustParse(t, "@quarterly", "Europe/Amsterdam")
	if q.String() != "@quarterly" || q.Location().String() != "Europe/Amsterdam" {
		t.Errorf("got %q in %v", q.String(), q.Location())
	}
	if _, err := Parse("@every 1m", ""); err != nil {
		t.Errorf("@every 1m is the minimum and must be accepted: %v", err)
	}
}

// The result of Next must not depend on the zone of the time passed in.
func TestNextIgnoresInputZone(t *testing.T) {
	s := mustParse(t, "0 9 * * 1", "Europe/Amsterdam")
	a := s.Next(utc(2026, 1, 1, 0, 0))
	b := s.Next(utc(2026, 1, 1, 0, 0).In(mustLoad(t, "Asia/Tokyo")))
	if !a.Equal(b) || !a.Equal(utc(2026, 1, 5, 8, 0)) {
		t.Errorf("got %s and %s, want 2026-01-05 08:00 UTC for both", a.UTC(), b.UTC())
	}

	// With no timeZone the schedule is UTC, not "the zone of the input".
	u := mustParse(t, "0 9 * * 1", "")
	tokyo := utc(2026, 1, 1, 0, 0).In(mustLoad(t, "Asia/Tokyo"))
	if got := u.Next(tokyo); !got.Equal(utc(2026, 1, 5, 9, 0)) {
		t.Errorf("empty timeZone, input in Tokyo: got %s, want 2026-01-05 09:00 UTC", got.UTC())
	}
}

func TestZeroSchedule(t *testing.T) {
	var s Schedule
	if got := s.Next(utc(2026, 1, 1, 0, 0)); !got.IsZero() {
		t.Errorf("zero Schedule Next = %s, want zero", got)
	}
	if d := s.Due(utc(2026, 1, 1, 0, 0), time.Time{}, utc(2026, 6, 1, 0, 0), nil); d != (Decision{}) || d.ShouldOpen() {
		t.Errorf("zero Schedule Due = %+v, want zero Decision", d)
	}
}

func TestReviewKey(t *testing.T) {
	ams := mustLoad(t, "Europe/Amsterdam")
	tests := []struct {
		name      string
		scheduled time.Time
		want      string
	}{
		{"UTC minutes", utc(2026, 1, 5, 9, 0), "review-202601050900"},
		{"local time is rendered in UTC", time.Date(2026, 1, 5, 9, 0, 0, 0, ams), "review-202601050800"},
		{"seconds are dropped", time.Date(2026, 1, 5, 9, 0, 42, 5, time.UTC), "review-202601050900"},
		{"first 02:30 on the Amsterdam fall-back day", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC).In(ams), "review-202610250030"},
		{"second 02:30 on the Amsterdam fall-back day", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC).In(ams), "review-202610250130"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReviewKey(tt.scheduled); got != tt.want {
				t.Errorf("ReviewKey(%s) = %q, want %q", tt.scheduled, got, tt.want)
			}
		})
	}
}
