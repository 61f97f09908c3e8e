package v1alpha1

// Reasons of a CustomerJourney's conditions and Events. docs/troubleshooting.md
// explains each.
const (
	// ReasonMapScored: Ready; the map is valid and its summary, health and
	// gaps are up to date (also the Normal Event when the figures change).
	ReasonMapScored = "MapScored"
	// ReasonInvalidMap: Stalled; the map breaks a rule admission cannot
	// check (a duplicate name, a dangling reference); the message names the field.
	ReasonInvalidMap = "InvalidMap"
	// ReasonInvalidSchedule: Stalled; spec.review.schedule or
	// spec.review.timeZone cannot be parsed.
	ReasonInvalidSchedule = "InvalidSchedule"
	// ReasonReviewOpened: Event; the review issue of a scheduled time was opened.
	ReasonReviewOpened = "ReviewOpened"
	// ReasonReviewMissed: Event; a review was more than
	// spec.review.startingDeadlineSeconds late and was skipped.
	ReasonReviewMissed = "ReviewMissed"
	// ReasonReviewOverdue: ReviewOverdue; the previous review issue was
	// still open when the next one was due.
	ReasonReviewOverdue = "ReviewOverdue"
	// ReasonMapUnchanged: Stale; the map has not changed across several reviews.
	ReasonMapUnchanged = "MapUnchanged"
	// ReasonDashboard is reserved for an Event when the dashboard issue is edited.
	ReasonDashboard = "DashboardUpdated"
	// ReasonMeasuresRead: MeasuresReady; every measure of the map could be
	// asked of Prometheus (some may have no data).
	ReasonMeasuresRead = "MeasuresRead"
)

// Reasons of the GitHub tracker's conditions and Events, on both kinds.
const (
	// ReasonGitHubPermissionDenied: TrackerReady; GitHub refused a change
	// with 403: the credentials lack a permission.
	ReasonGitHubPermissionDenied = "GitHubPermissionDenied"
)
