package controllers

import (
	"context"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
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
}

// ensureJourneyIssue finds or opens one of the journey's own issues (a
// review, the dashboard) exactly once, as phases do their items: the
// attempt is written to the status just before the request goes out; while
// an attempt's grace runs and the issue has not shown up, nothing is sent
// and wait says when to look again.
func (r *CustomerJourneyReconciler) ensureJourneyIssue(ctx context.Context, run *journeyRun, req tracker.IssueRequest) (is tracker.Issue, wait time.Duration, err error) {
	st := &run.cj.Status
	if found, ok := run.issues[req.Key]; ok {
		removeAttempt(st, req.Key)
		return found, 0, nil
	}
	if a := attemptOf(st, req.Key); a != nil {
		req.Attempted = true
		if left := a.At.Add(r.createGrace()).Sub(r.Clock.Now()); left > 0 {
			return tracker.Issue{}, left, nil // an earlier request may still land
		}
	}
	if d := run.tr.WriteDelay("journey/" + run.cj.Namespace + "/" + run.cj.Name); d > 0 {
		return tracker.Issue{}, d, nil
	}
	removeAttempt(st, req.Key)
	st.IssueAttempts = append(st.IssueAttempts, cxv1.IssueAttempt{Key: req.Key, At: now(r.Clock)})
	// As a phase's (recordAttempt): the attempt applies only to the journey
	// this run read, and the create leaves within the grace or not at all.
	sendBy := r.leader.sendBy(r.createGrace())
	if err := r.Status().Patch(ctx, run.cj, statusMergeFromLocked(run.persisted)); err != nil {
		removeAttempt(st, req.Key)
		if apierrors.IsConflict(err) {
			// The journey moved on since this run read it (a webhook's
			// annotation, another writer): nothing was sent; look again
			// from the journey as it is, without calling it a failure.
			return tracker.Issue{}, supersededRetry, nil
		}
		return tracker.Issue{}, 0, err
	}
	run.cj.DeepCopyInto(run.persisted)
	if err := r.leader.check(ctx); err != nil {
		return tracker.Issue{}, 0, err // the attempt holds the issue for its grace
	}
	is, _, err = run.tr.EnsureIssue(sendBy(ctx), req)
	if err != nil {
		if tracker.NotCreated(err) {
			removeAttempt(st, req.Key)
		}
		return tracker.Issue{}, 0, err
	}
	removeAttempt(st, req.Key)
	run.issues[req.Key] = is
	return is, 0, nil
}

// settleAttempts forgets the attempts whose issue GitHub now shows, and
// those so old that their request cannot land any more (the issue they
// were for is no longer wanted, say), so that the list stays short.
func (r *CustomerJourneyReconciler) settleAttempts(run *journeyRun) {
	st := &run.cj.Status
	for _, a := range append([]cxv1.IssueAttempt(nil), st.IssueAttempts...) {
		if _, found := run.issues[a.Key]; found || r.Clock.Since(a.At.Time) > 10*r.createGrace() {
			removeAttempt(st, a.Key)
		}
	}
}

func (r *CustomerJourneyReconciler) createGrace() time.Duration {
	if r.CreateGrace > 0 {
		return r.CreateGrace
	}
	return defaultCreateGrace
}

func attemptOf(st *cxv1.CustomerJourneyStatus, key string) *cxv1.IssueAttempt {
	for i := range st.IssueAttempts {
		if st.IssueAttempts[i].Key == key {
			return &st.IssueAttempts[i]
		}
	}
	return nil
}

func removeAttempt(st *cxv1.CustomerJourneyStatus, key string) {
	out := st.IssueAttempts[:0]
	for _, a := range st.IssueAttempts {
		if a.Key != key {
			out = append(out, a)
		}
	}
	st.IssueAttempts = out
	if len(st.IssueAttempts) == 0 {
		st.IssueAttempts = nil
	}
}
