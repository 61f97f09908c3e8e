package review

import (
	"strings"
	"time"
)

// reviewKeyLayout renders a scheduled time in UTC minutes, like the minute
// hash in a CronJob's job names.
const reviewKeyLayout = "200601021504"

// ReviewKey names the review opened for a scheduled time, for example
// "review-202601050900" for 2026-01-05 09:00 UTC. The key depends only on the
// scheduled time, in UTC at minute resolution, so a controller that uses it
// as the review's name can never open the same scheduled review twice, even
// after a crash between creating the review and recording it in status.
func ReviewKey(scheduled time.Time) string {
	return "review-" + scheduled.UTC().Format(reviewKeyLayout)
}

// ScheduledTimeOf reads the scheduled time back from a review key made by
// ReviewKey; ok is false for any other string.
func ScheduledTimeOf(key string) (t time.Time, ok bool) {
	rest, found := strings.CutPrefix(key, "review-")
	if !found {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(reviewKeyLayout, rest, time.UTC)
	return t, err == nil
}
