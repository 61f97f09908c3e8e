// Package exactlyonce opens each of cxloop's issues on GitHub once, and
// only once, across crashes, lost answers, paused leaders and two replicas.
//
// An attempt is written down (to the custom resource's status, by a write
// guarded by the resourceVersion the reconcile read) before the request to
// open the issue goes out. The attempt then holds the issue for one grace:
// a request in flight when cxloop stopped, or GitHub's listing lagging
// behind a create, shows up within it, and the issue is adopted rather
// than opened again. The attempt is settled when the issue is seen (by its
// key, in the repository's shared issue index), taken back at once when
// the request provably never reached GitHub (tracker.NotCreated), and
// times out after its grace: the next request tells the tracker that an
// earlier one may have landed, so that GitHub is asked afresh first.
//
// The phase's items and the journey's own issues (reviews, the dashboard)
// both go through Attempts; what differs is only where the attempt is
// kept (a Mark).
package exactlyonce

import (
	"context"
	"errors"
	"time"

	"k8s.io/utils/clock"

	"github.com/cxloop/cxloop/internal/tracker"
)

// DefaultGrace is how long an attempt holds its issue when no grace is
// set (the manager's --create-grace).
const DefaultGrace = time.Minute

// staleGraces: an attempt older than this many graces is forgotten
// even if its issue never showed up (it is no longer wanted, say).
const staleGraces = 10

// GraceOf returns grace, or DefaultGrace when grace is not set: the one
// place the grace is defaulted.
func GraceOf(grace time.Duration) time.Duration {
	if grace > 0 {
		return grace
	}
	return DefaultGrace
}

// ErrSuperseded marks a failed attempt write that met a newer object: a
// new leader took over while this process was paused, or another writer
// wrote first. Nothing was sent; the next reconcile starts afresh.
var ErrSuperseded = errors.New("the object changed since it was read: the attempt was not recorded")

// Superseded reports whether err says the attempt met a newer object.
func Superseded(err error) bool { return errors.Is(err, ErrSuperseded) }

// Mark is where one issue's attempt is kept, in memory: a phase item's
// attemptedAt, an entry of a journey's issueAttempts.
type Mark interface {
	// Set records an attempt made at at.
	Set(at time.Time)
	// Clear takes the attempt back: the issue was seen, or the request
	// provably never reached GitHub.
	Clear()
}

// Writer persists the object that holds the Marks; it must refuse, with
// an error for which Superseded is true, a write to an object that changed
// since it was read (see controllers' statusMergeFromLocked).
type Writer interface {
	Write(ctx context.Context) error
}

// Gate is asked just before a request is sent (the leader election): Check
// fails when this process may no longer send; SendBy bounds, from when the
// attempt is written, how long the request may still leave (a paused
// process must not send it once another may have).
type Gate interface {
	Check(ctx context.Context) error
	SendBy(grace time.Duration) func(context.Context) context.Context
}

// Creator is the tracker's side: opening the issue, or finding it open.
type Creator interface {
	EnsureIssue(ctx context.Context, req tracker.IssueRequest) (tracker.Issue, bool, error)
}

// Attempts records, settles and times out the attempts to open issues.
// The zero value is usable: DefaultGrace, the real clock.
type Attempts struct {
	// Grace is how long an attempt holds its issue (0: DefaultGrace).
	Grace time.Duration
	// Clock tells the time of attempts (nil: the real clock).
	Clock clock.PassiveClock
}

// GraceOrDefault is the grace in force.
func (a Attempts) GraceOrDefault() time.Duration { return GraceOf(a.Grace) }

func (a Attempts) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock.Now()
}

// Verdict is what to do about one issue now.
type Verdict struct {
	// Seen: the issue is on GitHub; any attempt is settled, nothing is sent.
	Seen bool
	// Wait > 0: an earlier attempt may still land; send nothing before it.
	Wait time.Duration
	// Attempted: an earlier attempt timed out without its issue showing
	// up; the request goes out, telling the tracker it may have landed.
	Attempted bool
}

// Send reports whether the issue's request may go out now.
func (v Verdict) Send() bool { return !v.Seen && v.Wait <= 0 }

// Check says what to do about an issue whose attempt was made at
// attemptedAt (nil: none), seen telling whether the issue is in the index.
func (a Attempts) Check(attemptedAt *time.Time, seen bool) Verdict {
	if seen {
		return Verdict{Seen: true}
	}
	if attemptedAt == nil {
		return Verdict{}
	}
	if left := attemptedAt.Add(a.GraceOrDefault()).Sub(a.now()); left > 0 {
		return Verdict{Wait: left}
	}
	return Verdict{Attempted: true}
}

// Pending reports whether an attempt made at attemptedAt (nil: none) may
// still land: its grace has not run out.
func (a Attempts) Pending(attemptedAt *time.Time) bool {
	return a.Check(attemptedAt, false).Wait > 0
}

// Stale reports whether an attempt made at at is so old that its request
// cannot land any more: it may be forgotten though its issue never showed.
func (a Attempts) Stale(at time.Time) bool {
	return a.now().Sub(at) > staleGraces*a.GraceOrDefault()
}

// Result is what became of one attempt.
type Result struct {
	// Issue is the issue opened or found (when the error is nil).
	Issue tracker.Issue
	// Created: this attempt opened the issue.
	Created bool
	// Sent: the request went to the tracker (it may have failed there);
	// false when the attempt could not be written or the gate refused.
	Sent bool
}

// Open makes one attempt: it sets the attempt on m, persists it with w,
// asks g, and sends req through c. req.Attempted should carry the
// Verdict's Attempted.
//
//   - The attempt cannot be written: it is taken back from m, nothing is
//     sent, and the error is returned (Superseded(err) when the object
//     moved on).
//   - g refuses: the error is returned; the attempt holds the issue for
//     its grace.
//   - The request fails: when it provably created nothing
//     (tracker.NotCreated) the attempt is taken back; otherwise it holds
//     the issue for its grace. A request dropped because this process was
//     paused past SendBy (tracker.SendByPassed) leaves m as it is: the
//     process's view is stale, and it should write nothing from it.
//   - The issue is open (created now, or found): the attempt is settled.
func (a Attempts) Open(ctx context.Context, m Mark, w Writer, g Gate, c Creator, req tracker.IssueRequest) (Result, error) {
	// The request must leave well within the grace, counted from before
	// the attempt's write: after it, another leader may make it.
	sendBy := g.SendBy(a.GraceOrDefault())
	m.Set(a.now().Truncate(time.Second))
	if err := w.Write(ctx); err != nil {
		m.Clear()
		return Result{}, err
	}
	if err := g.Check(ctx); err != nil {
		return Result{}, err
	}
	is, created, err := c.EnsureIssue(sendBy(ctx), req)
	if err != nil {
		if tracker.NotCreated(err) && !tracker.SendByPassed(err) {
			m.Clear()
		}
		return Result{Sent: true}, err
	}
	m.Clear()
	return Result{Issue: is, Created: created, Sent: true}, nil
}
