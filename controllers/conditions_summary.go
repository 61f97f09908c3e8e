package controllers

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/journey"
)

// verdict is a reason and a message for the Ready condition.
type verdict struct {
	Reason  string
	Message string
}

func (v verdict) set() bool { return v.Reason != "" }

// readiness is what one reconcile's steps found about the object as a
// whole. Steps record it (Stall, Progress, Hold, Ready) and set only the
// conditions they own; summarizeReady turns it into Ready, Reconciling and
// Stalled once, in the deferred status patch, for both kinds (after Flux's
// summarize helper and conditions.SetSummary). Within one field the last
// verdict recorded wins, as a later Mark* call used to overwrite an
// earlier one.
type readiness struct {
	// stalled: the controller cannot make progress until a person acts.
	stalled verdict
	// reconciling: the work goes on and gets there without help (a rate
	// limit, a Secret not yet applied, a GitHub outage).
	reconciling verdict
	// notReady: the object is deliberately not ready although nothing is
	// wrong (a suspended phase): Ready=False, neither Reconciling nor Stalled.
	notReady verdict
	// ready: Ready's reason and message when nothing holds the object back.
	ready verdict
	// negative lists owned conditions of negative polarity (True means
	// something is wrong, like Flux's FetchFailed): when one is True and no
	// verdict above says more, Ready=False with its reason and message.
	negative []string
}

// Stall records that a person must act; it wins over every other verdict.
func (r *readiness) Stall(reason, msg string) { r.stalled = verdict{reason, msg} }

// Progress records that the work is under way and heals on its own.
func (r *readiness) Progress(reason, msg string) { r.reconciling = verdict{reason, msg} }

// Hold records Ready=False without Reconciling or Stalled.
func (r *readiness) Hold(reason, msg string) { r.notReady = verdict{reason, msg} }

// Ready records Ready's reason and message when all is well.
func (r *readiness) Ready(reason, msg string) { r.ready = verdict{reason, msg} }

// summarizeReady writes Ready, Reconciling and Stalled from what the
// reconcile found, in this order of precedence: stalled, reconciling, not
// ready, the first negative-polarity condition that is True, ready. A
// reconcile that recorded no verdict at all (it ended before it could
// judge: an API error, a write budget to wait for) leaves the three as
// they were. It is the only place in controllers/ that writes Ready.
func summarizeReady(conds *[]metav1.Condition, gen int64, r readiness) {
	switch {
	case r.stalled.set():
		conditions.MarkStalled(conds, gen, r.stalled.Reason, r.stalled.Message)
		return
	case r.reconciling.set():
		conditions.MarkReconciling(conds, gen, r.reconciling.Reason, r.reconciling.Message)
		return
	}
	notReady := r.notReady
	if !notReady.set() {
		notReady = firstTrue(*conds, r.negative)
	}
	if !notReady.set() && !r.ready.set() {
		return
	}
	if notReady.set() {
		conditions.Remove(conds, cxv1.ConditionReconciling)
		conditions.Remove(conds, cxv1.ConditionStalled)
		conditions.Set(conds, gen, cxv1.ConditionReady, metav1.ConditionFalse, notReady.Reason, notReady.Message)
		return
	}
	conditions.MarkReady(conds, gen, r.ready.Reason, r.ready.Message)
}

// firstTrue is the reason and message of the first of types that is True.
func firstTrue(conds []metav1.Condition, types []string) verdict {
	for _, typ := range types {
		for _, c := range conds {
			if c.Type == typ && c.Status == metav1.ConditionTrue {
				return verdict{c.Reason, c.Message}
			}
		}
	}
	return verdict{}
}

// problemsMessage lists the first few problems, each naming its field.
func problemsMessage(problems []journey.Problem) string {
	const shown = 3
	var parts []string
	for i, p := range problems {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(problems)-shown))
			break
		}
		parts = append(parts, p.Error())
	}
	return strings.Join(parts, "; ")
}

func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == status && c.Reason == reason
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
