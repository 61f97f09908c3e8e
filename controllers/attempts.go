package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/exactlyonce"
)

// The seams between exactlyonce.Attempts and the API server: the serial
// status write of an attempt, the leader election's gate, and where a
// phase item's or a journey issue's attempt is kept.

// attempts is the phase reconciler's exactly-once policy: --create-grace,
// defaulted in exactlyonce.
func (r *ImprovementPhaseReconciler) attempts() exactlyonce.Attempts {
	return exactlyonce.Attempts{Grace: r.CreateGrace, Clock: r.Clock}
}

// createGrace is the phase's grace in force.
func (r *ImprovementPhaseReconciler) createGrace() time.Duration {
	return r.attempts().GraceOrDefault()
}

// attempts is the journey reconciler's exactly-once policy (as a phase's).
func (r *CustomerJourneyReconciler) attempts() exactlyonce.Attempts {
	return exactlyonce.Attempts{Grace: r.CreateGrace, Clock: r.Clock}
}

// statusObject is a custom resource whose status an attempt is written to.
type statusObject[T any] interface {
	client.Object
	DeepCopyInto(T)
}

// lockedStatusWriter writes obj's status as a merge patch from persisted,
// guarded by persisted's resourceVersion (statusMergeFromLocked), one write
// at a time: each successful write moves persisted forward, so the next is
// guarded by the version it produced. A Conflict is exactlyonce's
// ErrSuperseded; any failure is a statusWriteError. written, if set, is
// called after each successful write.
type lockedStatusWriter[T statusObject[T]] struct {
	c              client.StatusClient
	obj, persisted T
	written        func()
}

func (w lockedStatusWriter[T]) Write(ctx context.Context) error {
	if err := w.c.Status().Patch(ctx, w.obj, statusMergeFromLocked(w.persisted)); err != nil {
		if apierrors.IsConflict(err) {
			err = fmt.Errorf("%w: %w", exactlyonce.ErrSuperseded, err)
		}
		return &statusWriteError{err}
	}
	w.obj.DeepCopyInto(w.persisted)
	if w.written != nil {
		w.written()
	}
	return nil
}

// attemptWriter writes the run's attempts (exactlyonce), guarded by the
// phase it read; each write records, and so tells, the news so far.
func (r *ImprovementPhaseReconciler) attemptWriter(run *phaseRun) lockedStatusWriter[*cxv1.ImprovementPhase] {
	return lockedStatusWriter[*cxv1.ImprovementPhase]{c: r.Client, obj: run.ph, persisted: run.persisted, written: func() { run.news.told(r.Recorder, run.ph) }}
}

// leaderGate is the leader election as exactlyonce's Gate (a nil lease:
// no leader election, nothing refused or bounded).
type leaderGate struct{ l *leaderLease }

func (g leaderGate) Check(ctx context.Context) error { return g.l.check(ctx) }

func (g leaderGate) SendBy(grace time.Duration) func(context.Context) context.Context {
	return g.l.sendBy(grace)
}

// itemMark keeps a phase item's attempt: its attemptedAt, written with
// the progress and generation the run has reached. When the journey asks
// for parent issues, the same write records that the phase's parent is
// owed (status.parent Pending): the phase gets its parent even if its work
// is done before the parent's turn comes.
type itemMark struct {
	ph     *cxv1.ImprovementPhase
	gen    int64
	i      int
	parent bool
}

func (m itemMark) Set(at time.Time) {
	t := metav1.NewTime(at)
	if m.parent && m.ph.Status.Parent == nil {
		m.ph.Status.Parent = &cxv1.PhaseParent{State: cxv1.ParentIssuePending}
	}
	m.ph.Status.Items[m.i].AttemptedAt = &t
	m.ph.Status.Progress = progressOf(m.ph.Status.Items)
	m.ph.Status.ObservedGeneration = m.gen
}

func (m itemMark) Clear() { m.ph.Status.Items[m.i].AttemptedAt = nil }

// journeyIssueMark keeps the attempt of one of a journey's own issues (a
// review, the dashboard): an entry of status.issueAttempts.
type journeyIssueMark struct {
	st  *cxv1.CustomerJourneyStatus
	key string
}

func (m journeyIssueMark) Set(at time.Time) {
	removeAttempt(m.st, m.key)
	m.st.IssueAttempts = append(m.st.IssueAttempts, cxv1.IssueAttempt{Key: m.key, At: metav1.NewTime(at)})
}

func (m journeyIssueMark) Clear() { removeAttempt(m.st, m.key) }

// attemptOf is the journey's attempt for key (nil: none).
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

// attemptTime is an attempt's time for exactlyonce (nil: none).
func attemptTime(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}
