package controllers

import (
	"context"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/tracker"
)

// journeyRun is what one reconcile of a journey hands to its GitHub steps.
type journeyRun struct {
	cj *cxv1.CustomerJourney
	// persisted is the journey as last written; ensureJourneyIssue writes
	// attempts as it goes and moves it forward.
	persisted *cxv1.CustomerJourney
	tr        tracker.Tracker
	issues    map[string]tracker.Issue
	// news is the reconcile's news (journeyState.news), told by the
	// attempts' writes too.
	news *news
}

// ensureJourneyIssue finds or opens one of the journey's own issues (a
// review, the dashboard) exactly once, as phases do their items
// (exactlyonce.Attempts): the attempt is written to the status just before
// the request goes out; while an attempt's grace runs and the issue has not
// shown up, nothing is sent and wait says when to look again.
func (r *CustomerJourneyReconciler) ensureJourneyIssue(ctx context.Context, run *journeyRun, req tracker.IssueRequest) (is tracker.Issue, wait time.Duration, err error) {
	st := &run.cj.Status
	mark := journeyIssueMark{st: st, key: req.Key}
	attempts := r.attempts()
	var at *time.Time
	if a := attemptOf(st, req.Key); a != nil {
		at = &a.At.Time
	}
	found, seen := run.issues[req.Key]
	v := attempts.Check(at, seen)
	switch {
	case v.Seen:
		mark.Clear()
		return found, 0, nil
	case v.Wait > 0:
		return tracker.Issue{}, v.Wait, nil // an earlier request may still land
	}
	if d := run.tr.WriteDelay("journey/" + run.cj.Namespace + "/" + run.cj.Name); d > 0 {
		return tracker.Issue{}, d, nil
	}
	req.Attempted = v.Attempted
	// As a phase's: the attempt applies only to the journey this run read,
	// and the create leaves within the grace or not at all.
	res, err := attempts.Open(ctx, mark,
		lockedStatusWriter[*cxv1.CustomerJourney]{c: r.Client, obj: run.cj, persisted: run.persisted, written: func() { run.news.told(r.Recorder, run.cj) }},
		leaderGate{r.leader}, run.tr, req)
	if exactlyonce.Superseded(err) {
		// The journey moved on since this run read it (a webhook's
		// annotation, another writer): nothing was sent; look again
		// from the journey as it is, without calling it a failure.
		return tracker.Issue{}, supersededRetry, nil
	}
	if err != nil {
		return tracker.Issue{}, 0, err // the attempt holds the issue for its grace unless nothing was sent
	}
	run.issues[req.Key] = res.Issue
	return res.Issue, 0, nil
}

// settleAttempts forgets the attempts whose issue GitHub now shows, and
// those so old that their request cannot land any more (the issue they
// were for is no longer wanted, say), so that the list stays short.
func (r *CustomerJourneyReconciler) settleAttempts(run *journeyRun) {
	st := &run.cj.Status
	attempts := r.attempts()
	for _, a := range append([]cxv1.IssueAttempt(nil), st.IssueAttempts...) {
		if _, found := run.issues[a.Key]; found || attempts.Stale(a.At.Time) {
			removeAttempt(st, a.Key)
		}
	}
}
