package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// maxBoardItemsPerReconcile bounds the board requests one reconcile
// causes (two per item: the add and the values, or the values alone for an
// item cxloop added before; two reads more when GitHub answers one 404),
// so that a phase of many issues shares the worker and the write budget.
const maxBoardItemsPerReconcile = 10

// boardOpener is a tracker that can reach a project: *tracker.Client.
type boardOpener interface {
	Board(ctx context.Context, ref tracker.ProjectRef) (*tracker.Board, error)
}

// boards keeps each journey's board between reconciles, so that its
// fields are listed once, not per reconcile; a new tracker (rotated
// credentials) or another project finds it again. A journey's lookup
// holds only that journey's lock: a slow project delays no other.
type boards struct {
	mu sync.Mutex
	m  map[client.ObjectKey]*boardEntry
}

type boardEntry struct {
	mu    sync.Mutex
	tr    tracker.Tracker
	board *tracker.Board
}

func (b *boards) get(ctx context.Context, journey client.ObjectKey, tr tracker.Tracker, ref tracker.ProjectRef) (*tracker.Board, error) {
	b.mu.Lock()
	if b.m == nil {
		b.m = map[client.ObjectKey]*boardEntry{}
	}
	e, ok := b.m[journey]
	if !ok {
		e = &boardEntry{}
		b.m[journey] = e
	}
	b.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.board != nil && e.tr == tr && e.board.Ref() == ref {
		return e.board, nil
	}
	bo, ok := tr.(boardOpener)
	if !ok {
		return nil, &tracker.APIError{Reason: cxv1.ReasonInternalError, Message: "this tracker cannot reach GitHub Projects"}
	}
	board, err := bo.Board(ctx, ref)
	if err != nil {
		return nil, err
	}
	// Fields are made once per board and process, under the journey's lock,
	// so that two phases of the journey do not both make a missing one.
	if _, err := board.EnsureFields(ctx); err != nil {
		return nil, err
	}
	e.tr, e.board = tr, board
	return board, nil
}

func (b *boards) forget(journey client.ObjectKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, journey)
}

// projectOf is the journey's project, if it names one.
func projectOf(cj *cxv1.CustomerJourney) (tracker.ProjectRef, bool) {
	if cj.Spec.Tracker == nil || cj.Spec.Tracker.GitHub == nil || cj.Spec.Tracker.GitHub.Project.Number == 0 {
		return tracker.ProjectRef{}, false
	}
	p := cj.Spec.Tracker.GitHub.Project
	return tracker.ProjectRef{Owner: p.Owner, Number: int(p.Number)}, true
}

// syncBoard puts the phase's issues on the journey's project with cxloop's
// field values: the product owner's board. It comes after the issues: a
// board failure (a missing permission, an unknown project) is said in
// BoardReady and holds nothing else back.
//
// Exactly once without an attempt record: GitHub answers the add of an
// issue already on the board with its item, so an add whose answer was
// lost is found by the next, not repeated. What is recorded (board.state
// OnBoard, with the item's ID) is that cxloop added it once: missing later,
// a person removed it, and it stays removed.
//
// Nothing lists the board (but an add GitHub refuses, which looks through
// at most 20 pages an hour: tracker.Board.AddItem). A project many
// journeys share holds thousands of items after a few years, and listing
// it for each phase that opened an issue cost a page per hundred items: a
// ramp of 200 issues on a board of 5,000 would spend 10,000 requests, two
// hours of a token's rate limit.
func (r *ImprovementPhaseReconciler) syncBoard(ctx context.Context, run *phaseRun) (steps.Result, error) {
	ref, ok := projectOf(run.cj)
	if !ok {
		conditions.Remove(run.conds(), cxv1.ConditionBoardReady)
		return steps.Result{}, nil
	}
	if was := run.ph.Status.Board; !strings.EqualFold(was.Owner, ref.Owner) || int(was.Number) != ref.Number {
		// The records are not known to be of the journey's project. It is
		// found before they change, so that a typo in its number changes
		// nothing (the lookup is kept for the journey's other phases).
		if _, err := r.boards.get(ctx, client.ObjectKeyFromObject(run.cj), run.tr, ref); err != nil {
			return r.boardFailed(run, err)
		}
		boardRecordsOf(run, ref)
	}
	todo := boardWork(run)
	parent := parentBoardWork(run)
	if len(todo) == 0 && !parent {
		r.boardSynced(run, ref)
		return steps.Result{}, nil
	}
	if held, res := heldBack(run); held {
		return res, nil // the issues go first; the board follows when the budget allows
	}
	board, err := r.boards.get(ctx, client.ObjectKeyFromObject(run.cj), run.tr, ref)
	if err != nil {
		return r.boardFailed(run, err)
	}
	res, more := steps.Result{}, len(todo) > maxBoardItemsPerReconcile
	if more {
		todo, res = todo[:maxBoardItemsPerReconcile], steps.Requeue(time.Millisecond) // the rest in the next reconcile
	}
	for n, i := range todo {
		if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 && n > 0 {
			return steps.Requeue(d), nil // the rest when the budget allows
		}
		it := &run.ph.Status.Items[i]
		if err := r.putOnBoard(ctx, run, board, it.Issue, &it.Board, boardValues(run, it)); err != nil {
			return r.boardFailed(run, err)
		}
	}
	if more {
		return res, nil
	}
	if parent {
		// The phase's parent issue goes on the board too, with its Phase:
		// GitHub shows its sub-issues' progress there.
		if d := run.tr.WriteDelay(budgetWaiter(run.ph)); d > 0 && len(todo) > 0 {
			return steps.Requeue(d), nil
		}
		p := run.ph.Status.Parent
		if err := r.putOnBoard(ctx, run, board, p.Issue, &p.Board, parentBoardValues(run)); err != nil {
			return r.boardFailed(run, err)
		}
	}
	r.boardSynced(run, ref)
	return res, nil
}

// putOnBoard adds issue to the board unless cxloop did before (then a
// person may have removed it since), and sets cxloop's values; rec is
// where its item is recorded. A record without its item's ID (written by
// hand) counts as not added: the add answers the item if it is there.
func (r *ImprovementPhaseReconciler) putOnBoard(ctx context.Context, run *phaseRun, board *tracker.Board, issue int64, rec *cxv1.ItemBoard, values map[string]string) error {
	if rec.State == cxv1.BoardItemOnBoard && rec.ItemID > 0 {
		_, state, err := board.SetItemValues(ctx, rec.ItemID, values)
		if err != nil {
			return err
		}
		if state == tracker.ItemRemoved {
			*rec = cxv1.ItemBoard{State: cxv1.BoardItemRemoved}
			r.Recorder.Eventf(run.ph, run.cj, corev1.EventTypeNormal, cxv1.ReasonBoardItemRemoved, "Board",
				"issue #%d was removed from %s by a person; cxloop leaves it removed", issue, board.Ref())
			return nil
		}
		run.progressed = true
		rec.Values = valuesDigest(values)
		return nil
	}
	item, err := board.AddItem(ctx, int(issue))
	if err != nil {
		return err
	}
	run.progressed = true
	*rec = cxv1.ItemBoard{State: cxv1.BoardItemOnBoard, ItemID: item.ID} // on the board; values next time if these fail
	if _, err := board.SetValues(ctx, item, values); err != nil {
		return err
	}
	rec.Values = valuesDigest(values)
	return nil
}

// boardRecordsOf makes ref the board the phase's records are of. Records
// of another board (the journey moved to a new project) say nothing of
// this one: they are cleared, so that every issue is added to it, and the
// old board keeps its items. Records from before the phase said which
// board they are of are taken to be ref's.
func boardRecordsOf(run *phaseRun, ref tracker.ProjectRef) {
	if run.ph.Status.Board.Number != 0 {
		for i := range run.ph.Status.Items {
			run.ph.Status.Items[i].Board = cxv1.ItemBoard{}
		}
		if p := run.ph.Status.Parent; p != nil {
			p.Board = cxv1.ItemBoard{}
		}
	}
	run.ph.Status.Board = cxv1.GitHubProject{Owner: ref.Owner, Number: int32(ref.Number)}
}

// parentBoardWork: the phase's parent issue is not on the board with its
// values yet.
func parentBoardWork(run *phaseRun) bool {
	p := run.ph.Status.Parent
	if p == nil || p.Issue == 0 || p.Board.State == cxv1.BoardItemRemoved {
		return false
	}
	return p.Board.State != cxv1.BoardItemOnBoard || p.Board.Values != valuesDigest(parentBoardValues(run))
}

// parentBoardValues are the board values of the phase's parent issue.
func parentBoardValues(run *phaseRun) map[string]string {
	return workitem.Board{Phase: string(run.ph.Spec.Type)}.Values()
}

// boardWork are the items whose issue is not on the board yet, or whose
// values there are not the ones cxloop last set.
func boardWork(run *phaseRun) []int {
	var todo []int
	for i := range run.ph.Status.Items {
		it := &run.ph.Status.Items[i]
		if it.Issue == 0 || it.Board.State == cxv1.BoardItemRemoved {
			continue
		}
		if it.State != cxv1.ItemOpen && it.State != cxv1.ItemClosed {
			continue
		}
		if it.Board.State == cxv1.BoardItemOnBoard && it.Board.Values == valuesDigest(boardValues(run, it)) {
			continue
		}
		todo = append(todo, i)
	}
	return todo
}

// boardValues are the values of cxloop's fields for an item's issue: the
// map's context of its work item, and its verified outcome.
func boardValues(run *phaseRun, it *cxv1.PhaseItem) map[string]string {
	var values map[string]string
	if w, ok := run.work[it.Key]; ok {
		values = w.Board.Values()
	} else {
		// Work the map no longer asks for (a gap fixed, a pain point
		// solved) keeps what its item records: its phase and where in the
		// map it came from. SetValues clears nothing it is not given.
		values = workitem.Board{Phase: string(run.ph.Spec.Type), Stage: it.Source.Stage, Persona: it.Source.Persona}.Values()
	}
	if it.Outcome != nil {
		switch v := it.Outcome.Verdict; v {
		case cxv1.VerdictImproved, cxv1.VerdictUnchanged, cxv1.VerdictWorse:
			values[tracker.FieldOutcome] = string(v)
		}
	}
	return values
}

// valuesDigest names a set of values in a few bytes of status.
func valuesDigest(values map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(values)) {
		fmt.Fprintf(h, "%s=%s\n", k, values[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (r *ImprovementPhaseReconciler) boardSynced(run *phaseRun, ref tracker.ProjectRef) {
	on, removed := 0, 0
	for _, it := range run.ph.Status.Items {
		switch it.Board.State {
		case cxv1.BoardItemOnBoard:
			on++
		case cxv1.BoardItemRemoved:
			removed++
		}
	}
	msg := fmt.Sprintf("%d issues on %s with cxloop's fields", on, ref)
	if removed > 0 {
		msg += fmt.Sprintf("; %d removed by a person stay removed", removed)
	}
	conditions.Set(run.conds(), run.gen, cxv1.ConditionBoardReady, metav1.ConditionTrue, cxv1.ReasonBoardSynced, msg)
}

// boardFailed says in BoardReady why the board could not be kept, and lets
// the run go on: issues still open and are tracked. A failure that may
// pass (a rate limit, GitHub down) is set aside for the phase's backoff;
// one a person must fix (a permission, the project's number) waits for the
// phase's periodic sync.
func (r *ImprovementPhaseReconciler) boardFailed(run *phaseRun, err error) (steps.Result, error) {
	var rl *tracker.RateLimitError
	if errors.As(err, &rl) && rl.Budget {
		// cxloop's own write budget, spent by this sync: not a failure,
		// the rest follows when it allows.
		return steps.Requeue(max(rl.ResumeAt.Sub(r.Clock.Now()), time.Second)), nil
	}
	reason, msg := tracker.Reason(err), err.Error()
	var pe *tracker.PermissionError
	if errors.As(err, &pe) {
		reason = cxv1.ReasonPermissionMissing
	}
	if strings.TrimSpace(msg) == "" {
		msg = reason
	}
	conditions.Set(run.conds(), run.gen, cxv1.ConditionBoardReady, metav1.ConditionFalse, reason, msg)
	if reason != cxv1.ReasonPermissionMissing && reason != cxv1.ReasonProjectNotFound && reason != cxv1.ReasonInvalidRequest {
		run.setAside(&githubError{op: "keeping the board", err: err, followUp: true})
	}
	return steps.Result{}, nil
}
