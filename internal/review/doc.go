// Package review holds the schedule math for customer-journey reviews: when
// a journey map is due for review and what a reconcile must do about it.
//
// A journey's spec.review carries a cron schedule, a time zone, an optional
// startingDeadlineSeconds and a suspend flag, with the semantics of a
// Kubernetes CronJob. This package models the CronJob controller
// (kubernetes/kubernetes pkg/controller/cronjob, mostRecentScheduleTime and
// nextScheduleTime) and, like it, uses github.com/robfig/cron/v3 for the cron
// grammar, so a schedule here fires exactly when a CronJob with the same
// schedule and timeZone would.
//
// The package is pure: it imports nothing from Kubernetes and never reads the
// clock; the caller passes every time in. Suspension is left to the caller:
// while spec.review.suspend is true the controller opens nothing and does not
// advance the last scheduled time, so on resume Due yields a single catch-up
// review (subject to the starting deadline), as a CronJob does.
//
// Daylight-saving changes behave as in CronJob (robfig/cron): a wall-clock
// time that does not exist on the spring-forward day is skipped for that day,
// and a wall-clock time inside the repeated hour on the fall-back day fires
// twice, once for each UTC instant. Each firing has its own ReviewKey.
package review
