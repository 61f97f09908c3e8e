package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// openPlannedWork opens the issues of planned items, best first, within the
// phase's limits and the token's write budget.
//
// Exactly once: just before an item's request goes out, its attempt is
// written to the status (with everything this reconcile found so far). A
// create in flight when cxloop stops may still land on GitHub, and the next
// cxloop waits for it to show up (CreateGrace) rather than open a second
// one (exactlyonce.Attempts). Only the item whose request is about to be sent is marked, so a
// failure leaves the items after it free to go at the next try, and an
// attempt that provably never reached GitHub is taken back at once.
func (r *ImprovementPhaseReconciler) openPlannedWork(ctx context.Context, run *phaseRun) (res steps.Result, _ error) {
	var rl *tracker.RateLimitError
	if errors.As(run.githubErr, &rl) {
		return res, nil // nothing can be sent before the limit ends
	}
	if criteriaHold(run) {
		// The phase completes (checkExitCriteria): an issue opened now
		// would never be tracked, and an attempt past its grace is looked
		// for, not sent again (settleAttempts).
		return res, nil
	}
	candidates, wait := r.itemsToOpen(run.ph, run.work)
	res = steps.Requeue(wait)
	if len(candidates) > 0 && !planWritten(run) {
		// The plan and Ready go out first, in this reconcile's one status
		// write; the issues open in the next one. When hundreds of phases
		// are applied at once, every phase is Ready before any worker
		// spends round trips to GitHub on opening issues.
		if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 {
			// The budget holds the issues back already: the plan's write
			// says so too (not a write of its own), and the phase takes
			// its place in line.
			run.budgetWait = d
			return res.Merge(steps.Requeue(d)), nil
		}
		// The budget's next write is this phase's for a moment: it comes
		// straight back to send it, rather than lose it to another phase
		// while its plan is written and then write again to say it waits.
		return res.Merge(steps.Requeue(time.Millisecond)), nil
	}
	failed := 0
	for n, i := range candidates {
		if n == maxOpenPerReconcile {
			return res.Merge(steps.Requeue(time.Millisecond)), nil // more to open: let other phases have the worker first
		}
		if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 {
			run.budgetWait = d                      // checkExitCriteria says so in a condition
			return res.Merge(steps.Requeue(d)), nil // the write budget or a rate limit says later: hold no worker
		}
		attempts := r.attempts()
		attempted := attempts.Check(attemptTime(run.ph.Status.Items[i].AttemptedAt), false).Attempted
		w := run.work[run.ph.Status.Items[i].Key]
		opened, err := attempts.Open(ctx,
			itemMark{ph: run.ph, gen: run.gen, i: i, parent: parentIssues(run.cj)},
			r.attemptWriter(run),
			leaderGate{r.leader}, run.tr, tracker.IssueRequest{
				Key: run.trackerKey(w.Key), Title: w.Title, Body: w.Body, Labels: w.Labels, Assignees: run.pc.Assignees,
				Attempted: attempted,
			})
		if exactlyonce.Superseded(err) || errors.Is(err, errNotLeader) || tracker.SendByPassed(err) {
			// The phase moved on without this run (a new leader took over
			// while this process was paused, another reconcile wrote
			// first), or this process was paused past the attempt's
			// grace: write nothing from this view.
			run.superseded = true
			return res.Merge(steps.Done(supersededRetry)), nil
		}
		if err != nil && !opened.Sent {
			return res.Merge(steps.Done(0)), err // a failed status write, or the Lease unreadable: the attempt holds the item for its grace
		}
		// The attempt's write decoded the answer into the phase: take the
		// item afresh.
		it := &run.ph.Status.Items[i]
		if err != nil {
			if it.AttemptedAt != nil {
				res = res.Merge(steps.Requeue(r.createGrace())) // it may have landed: it waits for its grace
			}
			run.setAside(&githubError{op: "opening issues", err: err})
			// One lost answer concerns one item: the next ones go on. A
			// rate limit, or failures in a row, say GitHub needs a rest.
			var rl *tracker.RateLimitError
			if failed++; errors.As(err, &rl) || failed == maxFailuresInARow {
				return res, nil
			}
			continue
		}
		issue, created := opened.Issue, opened.Created
		failed = 0
		run.progressed = true
		applyIssue(it, issue, r.Clock)
		if created {
			opened := now(r.Clock)
			it.OpenedAt = &opened
			r.Recorder.Eventf(run.ph, nil, corev1.EventTypeNormal, cxv1.ReasonIssueOpened, "Open", "opened issue #%d: %s", issue.Number, w.Title)
		}
	}
	return res, nil
}

// supersededRetry is how soon a run whose attempt met a newer phase looks
// again: the cache holds the newer phase by then, as a rule.
const supersededRetry = 100 * time.Millisecond

// maxFailuresInARow stops opening issues in one reconcile once GitHub has
// failed this many creates in a row.
const maxFailuresInARow = 2

// planWritten reports whether the status already holds this generation's
// plan: a Ready condition written for it by a run that got as far as the
// plan. JourneyNotFound (the phase was first seen before its journey) is
// written before any plan; a GitHub failure set aside (Ready=False while
// work goes on) is written with it, and must not hold the work back.
func planWritten(run *phaseRun) bool {
	st := run.persisted.Status
	if st.ObservedGeneration != run.gen {
		return false
	}
	for _, c := range st.Conditions {
		if c.Type == cxv1.ConditionReady {
			return c.ObservedGeneration == run.gen && c.Reason != cxv1.ReasonJourneyNotFound
		}
	}
	return false
}

// itemsToOpen are the planned items to open now, best first, within the
// phase's limits. An item whose earlier attempt may still land holds its
// place until its grace ends. It also returns when to look again if a limit
// or an attempt holds items back.
func (r *ImprovementPhaseReconciler) itemsToOpen(ph *cxv1.ImprovementPhase, work map[string]workitem.Item) ([]int, time.Duration) {
	maxOpen, maxPerHour := limits(ph)
	nowT := r.Clock.Now()
	attempts := r.attempts()
	open, lastHour := 0, 0
	var oldestInHour time.Time
	for _, it := range ph.Status.Items {
		if it.State == cxv1.ItemOpen {
			open++
		}
		if it.OpenedAt != nil && nowT.Sub(it.OpenedAt.Time) < time.Hour {
			lastHour++
			if oldestInHour.IsZero() || it.OpenedAt.Time.Before(oldestInHour) {
				oldestInHour = it.OpenedAt.Time
			}
		}
	}
	var out []int
	var wait time.Duration
	for i, it := range ph.Status.Items {
		if it.State != cxv1.ItemPlanned {
			continue
		}
		if _, ok := work[it.Key]; !ok {
			continue
		}
		if maxOpen > 0 && open+len(out) >= maxOpen {
			break // more open as these close
		}
		if maxPerHour > 0 && lastHour+len(out) >= maxPerHour {
			wait = max(time.Second, oldestInHour.Add(time.Hour).Sub(nowT))
			break
		}
		if v := attempts.Check(attemptTime(it.AttemptedAt), false); !v.Send() {
			// An earlier attempt may still land: wait for it, holding its place.
			w := max(time.Second, v.Wait)
			if wait == 0 || w < wait {
				wait = w
			}
			open++
			continue
		}
		out = append(out, i)
	}
	return out, wait
}
