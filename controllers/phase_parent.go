package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// maxLinksPerReconcile bounds the sub-issue links and issue types one
// reconcile sends (two or three requests each), as maxBoardItemsPerReconcile
// bounds the board's.
const maxLinksPerReconcile = 10

// issueRelations is a tracker that can link issues and give them types:
// *tracker.Client.
type issueRelations interface {
	EnsureSubIssue(ctx context.Context, parent, child int) error
	SubIssueProgress(ctx context.Context, parent int) (tracker.SubIssuesSummary, error)
	EnsureBlockedBy(ctx context.Context, number, blocker int) error
	IssueTypes(ctx context.Context) ([]tracker.IssueType, error)
	SetIssueType(ctx context.Context, number int, typeName string) error
}

// parentIssues reports whether the journey asks for phase parent issues.
func parentIssues(cj *cxv1.CustomerJourney) bool {
	return cj != nil && cj.Spec.Tracker != nil && cj.Spec.Tracker.GitHub != nil && ptr.Deref(cj.Spec.Tracker.GitHub.ParentIssues, false)
}

// syncParent keeps the phase's parent issue (spec.tracker.github.parentIssues):
// opened once the phase has opened work, blocked by the earlier phase's
// parent, with the phase's issues as its sub-issues; and gives the issues
// the journey's issue types. Like the board it comes after the issues, and
// a failure holds nothing else back.
//
// Exactly once: the parent is opened through exactlyonce.Attempts with its
// attempt in status.parent, as an item's; a sub-issue link or a dependency
// looks before it adds (tracker.EnsureSubIssue), and is recorded when done.
func (r *ImprovementPhaseReconciler) syncParent(ctx context.Context, run *phaseRun) (steps.Result, error) {
	rel, ok := run.tr.(issueRelations)
	if !ok {
		return steps.Result{}, nil
	}
	if w := r.parentAttemptWait(run); w > 0 {
		return steps.Requeue(w), nil // its parent may still land: nothing goes before it, and no turn is taken
	}
	// Nothing to write asks nothing of the write budget: WriteDelay takes
	// a turn, which an idle phase must leave to the phases at work.
	types, typesErr := r.definedTypes(ctx, run, rel)
	if typesErr == nil && !r.parentWork(ctx, run, types) {
		return steps.Result{}, nil
	}
	if held, res := heldBack(run); held {
		return res, nil // the issues go first
	}
	var res steps.Result
	if parentIssues(run.cj) && parentOwed(run.ph) {
		opened, done, err := r.ensureParent(ctx, run)
		if err != nil || !done {
			return opened, err
		}
		res = opened
	}
	// Each part goes on when another fails: a dependency GitHub refuses
	// keeps no issue from its parent.
	if err := r.ensureBlockedBy(ctx, run, rel); err != nil {
		res = res.Merge(r.relationFailed(run, "marking the parent issue blocked", err))
	}
	if typesErr != nil {
		res = res.Merge(r.relationFailed(run, "reading the organisation's issue types", typesErr))
	}
	return res.Merge(r.linkAndTypeItems(ctx, run, rel, types)), nil
}

// parentAttemptWait is how long the parent issue's earlier attempt may
// still land (0: no such attempt, or its issue is listed already). The
// phase sends nothing for its parent meanwhile, and asks the write budget
// for no turn it would leave unused.
func (r *ImprovementPhaseReconciler) parentAttemptWait(run *phaseRun) time.Duration {
	p := run.ph.Status.Parent
	if !parentIssues(run.cj) || p == nil || p.Issue != 0 || p.AttemptedAt == nil {
		return 0
	}
	if _, listed := run.issues[run.trackerKey(workitem.ForPhaseParent(run.pc).Key)]; listed {
		return 0 // recorded by ensureParent
	}
	if w := r.attempts().Check(attemptTime(p.AttemptedAt), false).Wait; w > 0 {
		return max(time.Second, w)
	}
	return 0
}

// parentWork reports whether syncParent has anything to send: the parent
// to open, its dependency to mark, an issue to link, or a type (one the
// organisation defines) to give.
func (r *ImprovementPhaseReconciler) parentWork(ctx context.Context, run *phaseRun, types map[string]bool) bool {
	p := run.ph.Status.Parent
	if parentIssues(run.cj) {
		if p == nil || p.Issue == 0 {
			return parentOwed(run.ph)
		}
		if r.parentNeedsBlocker(ctx, run) {
			return true
		}
	}
	parent, itemType, parentType := r.relationTargets(run, types)
	if parent != 0 && parentType != "" && p.IssueType != parentType {
		return true
	}
	for _, it := range run.ph.Status.Items {
		if it.Issue != 0 && it.State != cxv1.ItemObsolete && ((parent != 0 && it.SubIssueOf != parent) || (itemType != "" && it.IssueType != itemType)) {
			return true
		}
	}
	return false
}

// parentNeedsBlocker: the phase has a parent issue, not lost, that is not
// yet marked blocked by the parent of the phase it waits for, which exists.
func (r *ImprovementPhaseReconciler) parentNeedsBlocker(ctx context.Context, run *phaseRun) bool {
	p := run.ph.Status.Parent
	return p != nil && p.Issue != 0 && p.State != cxv1.ParentIssueLost && p.BlockedBy == 0 && r.previousParent(ctx, run) != 0
}

// relationTargets are the parent the phase's issues belong under (0:
// none, or lost), and the types to give its issues and its parent (""
// for none, or one the organisation does not define).
func (r *ImprovementPhaseReconciler) relationTargets(run *phaseRun, types map[string]bool) (parent int64, itemType, parentType string) {
	if p := run.ph.Status.Parent; parentIssues(run.cj) && p != nil && p.State != cxv1.ParentIssueLost {
		parent = p.Issue
	}
	if t := issueTypeOf(run.cj, run.ph.Spec.Type, false); types[strings.ToLower(t)] {
		itemType = t
	}
	if t := issueTypeOf(run.cj, run.ph.Spec.Type, true); parent != 0 && types[strings.ToLower(t)] {
		parentType = t
	}
	return parent, itemType, parentType
}

// previousParent is the parent issue of the phase named in spec.after (0:
// none, or none yet).
func (r *ImprovementPhaseReconciler) previousParent(ctx context.Context, run *phaseRun) int64 {
	if run.ph.Spec.After == "" {
		return 0
	}
	var prev cxv1.ImprovementPhase
	if err := r.Get(ctx, client.ObjectKey{Namespace: run.ph.Namespace, Name: run.ph.Spec.After}, &prev); err != nil || prev.Status.Parent == nil || prev.Status.Parent.State == cxv1.ParentIssueLost {
		return 0
	}
	return prev.Status.Parent.Issue
}

// heldBack reports whether the board and the relations must wait: no
// tracker, a rate limit met by this run, or the write budget spent. A
// phase that completed has no periodic sync to come back with, so the wait
// is a requeue.
func heldBack(run *phaseRun) (bool, steps.Result) {
	var rl *tracker.RateLimitError
	switch {
	case run.tr == nil:
		return true, steps.Result{}
	case errors.As(run.githubErr, &rl):
		return true, steps.Requeue(max(time.Until(rl.ResumeAt), time.Second))
	}
	if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 {
		return true, steps.Requeue(d)
	}
	return false, steps.Result{}
}

// opensWork: the phase has opened at least one issue.
func opensWork(ph *cxv1.ImprovementPhase) bool {
	for _, it := range ph.Status.Items {
		if it.Issue != 0 {
			return true
		}
	}
	return false
}

// parentOwed: the phase's parent issue is still to be opened (or found:
// an attempt whose answer was lost). The phase has opened work, and is at
// it still, or completed while its parent was pending: the write budget
// may give a phase's issues their turns before its parent's, and the work
// may be done before the parent's turn comes. A phase that completed
// before the journey asked for parent issues is owed none.
func parentOwed(ph *cxv1.ImprovementPhase) bool {
	p := ph.Status.Parent
	if !opensWork(ph) || (p != nil && (p.Issue != 0 || p.State == cxv1.ParentIssueLost)) {
		return false
	}
	return ph.Status.State != cxv1.PhaseCompleted || p != nil
}

// linksLeft: some of the phase's issues are still to be made sub-issues of
// its parent (there, and not lost).
func linksLeft(ph *cxv1.ImprovementPhase) bool {
	p := ph.Status.Parent
	if p == nil || p.Issue == 0 || p.State == cxv1.ParentIssueLost {
		return false
	}
	for _, it := range ph.Status.Items {
		if it.Issue != 0 && it.State != cxv1.ItemObsolete && it.SubIssueOf != p.Issue {
			return true
		}
	}
	return false
}

// parentMark keeps the parent issue's attempt in status.parent.
type parentMark struct {
	ph  *cxv1.ImprovementPhase
	gen int64
}

func (m parentMark) Set(at time.Time) {
	t := metav1.NewTime(at)
	if m.ph.Status.Parent == nil {
		m.ph.Status.Parent = &cxv1.PhaseParent{}
	}
	m.ph.Status.Parent.AttemptedAt = &t
	m.ph.Status.Progress = progressOf(m.ph.Status.Items)
	m.ph.Status.ObservedGeneration = m.gen
}

func (m parentMark) Clear() {
	if m.ph.Status.Parent != nil {
		m.ph.Status.Parent.AttemptedAt = nil
	}
}

// ensureParent opens the phase's parent issue unless status.parent holds
// it. done is false while it is not there (an attempt waits out its grace,
// or the request failed).
func (r *ImprovementPhaseReconciler) ensureParent(ctx context.Context, run *phaseRun) (_ steps.Result, done bool, _ error) {
	if p := run.ph.Status.Parent; p != nil && p.Issue != 0 {
		return steps.Result{}, true, nil
	}
	attempts := r.attempts()
	var at *metav1.Time
	if p := run.ph.Status.Parent; p != nil {
		at = p.AttemptedAt
	}
	v := attempts.Check(attemptTime(at), false)
	item := workitem.ForPhaseParent(run.pc)
	key := run.trackerKey(item.Key)
	if is, ok := run.issues[key]; ok {
		// Listed already: an attempt whose answer was lost landed.
		r.recordParent(run, is, false)
		return steps.Result{}, true, nil
	}
	if !v.Send() {
		return steps.Requeue(max(time.Second, v.Wait)), false, nil // an earlier attempt may still land
	}
	opened, err := attempts.Open(ctx, parentMark{ph: run.ph, gen: run.gen},
		r.attemptWriter(run),
		leaderGate{r.leader}, run.tr, tracker.IssueRequest{
			Key: key, Title: item.Title, Body: item.Body, Labels: item.Labels, Assignees: run.pc.Assignees,
			Attempted: v.Attempted,
		})
	if exactlyonce.Superseded(err) || errors.Is(err, errNotLeader) || tracker.SendByPassed(err) {
		run.superseded = true
		return steps.Done(supersededRetry), false, nil
	}
	if err != nil && !opened.Sent {
		return steps.Done(0), false, err
	}
	if err != nil {
		res := r.relationFailed(run, "opening the phase's parent issue", err)
		if run.ph.Status.Parent != nil && run.ph.Status.Parent.AttemptedAt != nil {
			res = res.Merge(steps.Requeue(r.createGrace()))
		}
		return res, false, nil
	}
	r.recordParent(run, opened.Issue, opened.Created)
	if _, board := projectOf(run.cj); board {
		// The board step came before this one: it takes the new parent at
		// the next reconcile, soon rather than at the next sync.
		return steps.Requeue(time.Second), true, nil
	}
	return steps.Result{}, true, nil
}

func (r *ImprovementPhaseReconciler) recordParent(run *phaseRun, is tracker.Issue, created bool) {
	p := run.ph.Status.Parent
	if p == nil {
		p = &cxv1.PhaseParent{}
		run.ph.Status.Parent = p
	}
	p.Issue, p.URL, p.AttemptedAt, p.State = int64(is.Number), is.URL, nil, cxv1.ParentIssueOpen
	run.progressed = true
	if created {
		r.Recorder.Eventf(run.ph, nil, corev1.EventTypeNormal, cxv1.ReasonIssueOpened, "Open", "opened parent issue #%d: %s", is.Number, is.Title)
	}
}

// ensureBlockedBy marks the parent blocked by the parent of the phase named
// in spec.after, once that one exists.
func (r *ImprovementPhaseReconciler) ensureBlockedBy(ctx context.Context, run *phaseRun, rel issueRelations) error {
	p := run.ph.Status.Parent
	if !parentIssues(run.cj) || p == nil || p.Issue == 0 || p.State == cxv1.ParentIssueLost || p.BlockedBy != 0 {
		return nil
	}
	blocker := r.previousParent(ctx, run)
	if blocker == 0 {
		return nil // the earlier phase's parent is not there yet: its status change wakes this phase
	}
	if err := rel.EnsureBlockedBy(ctx, int(p.Issue), int(blocker)); err != nil {
		if _, refused := issueRefused(err); !refused {
			return err
		}
		// One of the two issues is gone or GitHub refuses the link (a
		// cycle a person made): say so once, and leave it.
		r.Recorder.Eventf(run.ph, nil, corev1.EventTypeWarning, cxv1.ReasonSubIssueLeft, "Link",
			"GitHub refused to mark parent issue #%d blocked by #%d: %v; cxloop leaves it", p.Issue, blocker, err)
	}
	p.BlockedBy = blocker
	run.progressed = true
	return nil
}

// linkAndTypeItems makes the phase's issues sub-issues of its parent and
// gives them (and the parent) the journey's issue type, a few per reconcile.
func (r *ImprovementPhaseReconciler) linkAndTypeItems(ctx context.Context, run *phaseRun, rel issueRelations, types map[string]bool) steps.Result {
	parent, itemType, parentType := r.relationTargets(run, types)
	sent := 0
	if p := run.ph.Status.Parent; parentType != "" && p.IssueType != parentType {
		if err := rel.SetIssueType(ctx, int(parent), parentType); err != nil {
			return r.parentFailed(ctx, run, rel, "giving the parent issue its type", err)
		}
		p.IssueType = parentType
		sent++
	}
	for i := range run.ph.Status.Items {
		it := &run.ph.Status.Items[i]
		if it.Issue == 0 || it.State == cxv1.ItemObsolete {
			continue
		}
		link := parent != 0 && it.SubIssueOf != parent
		typed := itemType != "" && it.IssueType != itemType
		if !link && !typed {
			continue
		}
		if sent >= maxLinksPerReconcile {
			return steps.Requeue(time.Millisecond) // the rest in the next reconcile
		}
		if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 && sent > 0 {
			return steps.Requeue(d)
		}
		sent++
		if link {
			if err := rel.EnsureSubIssue(ctx, int(parent), int(it.Issue)); err != nil {
				if _, refused := issueRefused(err); !refused {
					return r.relationFailed(run, fmt.Sprintf("making issue #%d a sub-issue of #%d", it.Issue, parent), err)
				}
				if r.parentGone(ctx, run, rel) {
					return steps.Result{}
				}
				// The issue's own matter: another parent a person gave it,
				// or GitHub refuses changes to it. Left as it is.
				r.Recorder.Eventf(run.ph, nil, corev1.EventTypeNormal, cxv1.ReasonSubIssueLeft, "Link",
					"GitHub refused to make issue #%d a sub-issue of #%d (%v): it may have another parent, set by a person; cxloop leaves it", it.Issue, parent, err)
			}
			it.SubIssueOf = parent
		}
		if typed {
			if err := rel.SetIssueType(ctx, int(it.Issue), itemType); err != nil {
				if _, refused := issueRefused(err); !refused {
					return r.relationFailed(run, fmt.Sprintf("giving issue #%d its type", it.Issue), err)
				}
			}
			it.IssueType = itemType
		}
		run.progressed = true
	}
	return steps.Result{}
}

// issueRefused reports whether GitHub refused a request for a reason of
// one issue (deleted, transferred, locked, a rule of GitHub's): asking
// again would get the same answer. Rate limits, failures of GitHub itself,
// credentials and permissions are not.
func issueRefused(err error) (*tracker.APIError, bool) {
	var ae *tracker.APIError
	var pe *tracker.PermissionError
	if errors.As(err, &pe) || !errors.As(err, &ae) || ae.Retryable() || ae.StatusCode == http.StatusForbidden ||
		ae.Reason == cxv1.ReasonBadCredentials || ae.Reason == cxv1.ReasonRepositoryNotFound {
		return nil, false
	}
	return ae, true
}

// parentGone asks GitHub about the parent issue after a refusal: one a
// person deleted or transferred is recorded Lost (status.parent.state), and
// cxloop opens no other and links nothing more to it.
func (r *ImprovementPhaseReconciler) parentGone(ctx context.Context, run *phaseRun, rel issueRelations) bool {
	p := run.ph.Status.Parent
	_, err := rel.SubIssueProgress(ctx, int(p.Issue))
	if _, refused := issueRefused(err); !refused {
		return false
	}
	r.parentLost(run, err)
	return true
}

func (r *ImprovementPhaseReconciler) parentLost(run *phaseRun, err error) {
	p := run.ph.Status.Parent
	p.State = cxv1.ParentIssueLost
	r.Recorder.Eventf(run.ph, nil, corev1.EventTypeWarning, cxv1.ReasonParentIssueLost, "Link",
		"the phase's parent issue #%d is gone or refused (%v): cxloop opens no other, and leaves the phase's issues as they are", p.Issue, err)
}

// parentFailed is relationFailed for a request about the parent itself.
func (r *ImprovementPhaseReconciler) parentFailed(ctx context.Context, run *phaseRun, rel issueRelations, what string, err error) steps.Result {
	if _, refused := issueRefused(err); refused {
		if !r.parentGone(ctx, run, rel) {
			run.ph.Status.Parent.IssueType = issueTypeOf(run.cj, run.ph.Spec.Type, true) // refused for good: not asked again
		}
		return steps.Result{}
	}
	return r.relationFailed(run, what, err)
}

// relationFailed is boardFailed for parents, links and types: a condition
// would say no more than the Event and the set-aside failure do, so the run
// goes on and the phase's backoff retries what may pass.
func (r *ImprovementPhaseReconciler) relationFailed(run *phaseRun, what string, err error) steps.Result {
	var rl *tracker.RateLimitError
	if errors.As(err, &rl) && rl.Budget {
		return steps.Requeue(max(rl.ResumeAt.Sub(r.Clock.Now()), time.Second))
	}
	var pe *tracker.PermissionError
	if errors.As(err, &pe) {
		r.Recorder.Eventf(run.ph, nil, corev1.EventTypeWarning, cxv1.ReasonPermissionMissing, "Link", "%s: %v", what, err)
		return steps.Result{}
	}
	run.setAside(&githubError{op: what, err: err, followUp: true})
	return steps.Result{}
}

// closeParent closes the parent issue of a phase that completed, so that
// the phase it blocks shows unblocked. A close that fails is tried again
// at the phase's next reconcile (closeParentOfCompleted).
func (r *ImprovementPhaseReconciler) closeParent(ctx context.Context, run *phaseRun) steps.Result {
	p := run.ph.Status.Parent
	if run.ph.Status.State != cxv1.PhaseCompleted || p == nil || p.Issue == 0 || p.State == cxv1.ParentIssueClosed || p.State == cxv1.ParentIssueLost || run.cj == nil {
		return steps.Result{}
	}
	if parentIssues(run.cj) && linksLeft(run.ph) {
		return steps.Result{} // the links first: syncParent makes them, a few per reconcile, and comes back
	}
	tr := run.tr
	if tr == nil {
		var err error
		if tr, err = r.Trackers.For(ctx, run.cj); err != nil {
			return steps.Requeue(time.Minute) // the tracker's condition is the journey's
		}
	}
	if d := tr.WriteDelay(budgetWaiter(run.ph)); d > 0 {
		return steps.Requeue(d)
	}
	// No comment: a close whose answer was lost is repeated, and a closed
	// issue is not closed again; a comment would be.
	if err := tr.CloseIssue(ctx, int(p.Issue), "completed", ""); err != nil {
		if _, refused := issueRefused(err); refused {
			r.parentLost(run, err) // deleted, transferred or locked: nothing to close
			return steps.Result{}
		}
		return r.relationFailed(run, "closing the parent issue", err).Merge(steps.Requeue(time.Minute))
	}
	p.State = cxv1.ParentIssueClosed
	run.progressed = true
	return steps.Result{}
}

// parentWhileWaiting opens the parent issue of a phase that waits for the
// phase named in spec.after, and marks it blocked by that phase's parent:
// the board shows what is next and what holds it up. Once both are
// recorded it costs nothing.
func (r *ImprovementPhaseReconciler) parentWhileWaiting(ctx context.Context, run *phaseRun) steps.Result {
	if !parentIssues(run.cj) {
		return steps.Result{}
	}
	// Only what there is to write reaches for the tracker and the budget.
	_, board := projectOf(run.cj)
	p := run.ph.Status.Parent
	needParent := p == nil || p.Issue == 0
	if w := r.parentAttemptWait(run); w > 0 {
		return steps.Requeue(w) // its parent may still land: no turn is taken meanwhile
	}
	needBlocker := r.parentNeedsBlocker(ctx, run)
	needBoard := board && !needParent && parentBoardWork(run)
	if !needParent && !needBlocker && !needBoard {
		return steps.Result{}
	}
	tr, err := r.Trackers.For(ctx, run.cj)
	if err != nil {
		return steps.Result{} // the journey's TrackerReady says why; its fix wakes the phase
	}
	run.tr = tr
	rel, ok := tr.(issueRelations)
	if !ok {
		return steps.Result{}
	}
	if d := tr.WriteDelay(budgetWaiter(run.ph)); d > 0 {
		return steps.Requeue(d) // the phases at work go first
	}
	res, done, err := r.ensureParent(ctx, run)
	if err != nil {
		return steps.Requeue(5 * time.Second) // the attempt's status write failed: look again soon
	}
	if !done {
		return res
	}
	if err := r.ensureBlockedBy(ctx, run, rel); err != nil {
		res = res.Merge(r.relationFailed(run, "marking the parent issue blocked", err))
	}
	if board {
		// On the board too: the team sees what comes next.
		onBoard, _ := r.syncBoard(ctx, run)
		res = res.Merge(onBoard)
	}
	return res
}

// finishCompleted keeps up what follows a completed phase's issues on
// GitHub: their board values (an outcome verified late, values the write
// budget held back when the phase completed), their sub-issue links and
// types, and the close of the phase's parent issue. It opens and tracks
// nothing; a journey without a board, parents or types costs nothing.
func (r *ImprovementPhaseReconciler) finishCompleted(ctx context.Context, run *phaseRun) steps.Result {
	cj, err := r.journeyOf(ctx, run.ph)
	if err != nil {
		return steps.Result{}
	}
	_, board := projectOf(cj)
	if !board && !parentIssues(cj) && issueTypeOf(cj, run.ph.Spec.Type, false) == "" {
		return steps.Result{}
	}
	tr, err := r.Trackers.For(ctx, cj)
	if err != nil {
		return steps.Result{}
	}
	run.cj, run.m, run.pc, run.tr = cj, measuredMap(cj), r.phaseContext(run.ph, cj), tr
	if phases, err := phasesOf(ctx, r.Client, run.ph.Namespace, cj.Name); err == nil {
		run.desired = plan.Work(run.ph, run.m, run.pc, plan.QuickWinRule(phases, run.ph))
		run.work = workByKey(run.desired)
	}
	var res steps.Result
	for _, step := range []func(context.Context, *phaseRun) (steps.Result, error){r.syncBoard, r.syncParent} {
		sr, err := step(ctx, run)
		if err != nil {
			return res.Merge(steps.Requeue(time.Minute))
		}
		res = res.Merge(sr)
	}
	// Closed last: the links it was left are made first.
	res = res.Merge(r.closeParent(ctx, run))
	if run.progressed && run.githubErr == nil && meta.IsStatusConditionFalse(run.ph.Status.Conditions, cxv1.ConditionTrackerReady) {
		// GitHub took this run's follow-up work after a failure of it
		// (checkExitCriteria, which says so for other phases, is behind
		// a completed phase); a run that sent nothing says nothing.
		conditions.Set(run.conds(), run.gen, cxv1.ConditionTrackerReady, metav1.ConditionTrue, cxv1.ReasonConnected, trackerConnectedMessage)
	}
	return res
}
