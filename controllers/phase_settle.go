package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/tracker"
)

// An attempt to open an issue is settled before the phase acts for good
// on the issue's absence: before it completes (a completed phase syncs no
// more issues), and before planned work the map dropped is forgotten.

// criteriaHold: the phase's exit criteria hold on its items as they
// stand; it completes in this run unless an attempt holds it back
// (settleAttempts) or GitHub failed on its issues. Such a phase opens
// nothing more.
func criteriaHold(run *phaseRun) bool {
	done, _ := plan.ExitCriteriaMet(run.ph, run.cj, progressOf(run.ph.Status.Items), len(run.desired))
	return done
}

// settleAttempts holds back the completion of a phase while one of its
// items may have an issue on GitHub that the phase does not know of: a
// completed phase syncs no more issues, so an issue whose create landed
// after all would stay open, untracked, and the item planned. An attempt
// within its grace is waited for: it returns how long, and what the
// phase waits for (openPlannedWork sends nothing more meanwhile). Attempts
// past their grace are looked for afresh, the repository's view being
// possibly older than the grace: an issue found is adopted, and an
// attempt whose issue GitHub does not have is taken back (no request
// leaves after its grace: exactlyonce). Work the map no longer asks for
// is left to syncIssues, a second later (dropsUnseenAttempt), which
// closes an issue found. A failed look is set aside as any GitHub
// failure, which holds the completion too.
func (r *ImprovementPhaseReconciler) settleAttempts(ctx context.Context, run *phaseRun) (time.Duration, string) {
	attempts := r.attempts()
	var lapsed []int
	for i, it := range run.ph.Status.Items {
		if it.State != cxv1.ItemPlanned || it.AttemptedAt == nil {
			continue
		}
		if v := attempts.Check(attemptTime(it.AttemptedAt), false); v.Wait > 0 {
			return max(time.Second, v.Wait), fmt.Sprintf("completes once GitHub shows the issue of %s, or the attempt to open it lapses", it.Key)
		}
		if _, wanted := run.work[it.Key]; !wanted {
			// Its grace ended between syncIssues and now.
			return time.Second, fmt.Sprintf("completes once the attempt to open %s, work the map no longer asks for, is settled", it.Key)
		}
		lapsed = append(lapsed, i)
	}
	if len(lapsed) == 0 {
		return 0, ""
	}
	// Asked now, even if syncIssues asked afresh a moment ago: an attempt
	// may have lapsed since, and what landed in between counts.
	issues, err := issuesNow(ctx, run.tr)
	if err != nil {
		run.setAside(&githubError{op: "looking for the issues of earlier attempts", err: err})
		return 0, ""
	}
	for _, i := range lapsed {
		it := &run.ph.Status.Items[i]
		if is, ok := issues[run.trackerKey(it.Key)]; ok {
			applyIssue(it, is, r.Clock)
			r.Recorder.Eventf(run.ph, nil, corev1.EventTypeNormal, cxv1.ReasonIssueOpened, "Open", "found issue #%d for %s: an earlier attempt opened it, and its answer was lost", is.Number, it.Key)
			continue
		}
		it.AttemptedAt = nil
	}
	return 0, ""
}

// issuesNow reads the repository's issues after asking GitHub what
// changed (tracker.Client's IssuesNow), or as any tracker reads them.
func issuesNow(ctx context.Context, tr tracker.Tracker) (map[string]tracker.Issue, error) {
	if n, ok := tr.(interface {
		IssuesNow(context.Context) (map[string]tracker.Issue, error)
	}); ok {
		return n.IssuesNow(ctx)
	}
	return tr.Issues(ctx)
}

// dropsUnseenAttempt reports whether plan.Merge would drop, for good, a
// planned item the map no longer asks for whose attempt to open its issue
// is past its grace, and whose issue the view does not show: the view may
// be older than the grace, and an issue that landed would stay open,
// untracked. Such a phase asks GitHub afresh first (once: the item is
// dropped or adopted after it), and Merge closes an issue found.
func (r *ImprovementPhaseReconciler) dropsUnseenAttempt(run *phaseRun, issues map[string]tracker.Issue) bool {
	attempts := r.attempts()
	for _, it := range run.ph.Status.Items {
		if it.State != cxv1.ItemPlanned || it.AttemptedAt == nil || attempts.Pending(attemptTime(it.AttemptedAt)) {
			continue
		}
		if _, wanted := run.work[it.Key]; wanted {
			continue
		}
		if _, seen := issues[run.trackerKey(it.Key)]; !seen {
			return true
		}
	}
	return false
}
