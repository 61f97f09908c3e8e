// Package conditions sets status conditions the kstatus way, so that
// kubectl wait, Flux and Argo CD read cxloop's objects correctly: Ready is
// always present; Reconciling and Stalled are present only while true and
// exclude each other; every condition carries the observed generation.
package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/redact"
)

// Set records a condition with the generation it was observed at.
// Conditions' LastTransitionTime only changes when the status does. The
// user info of any URL in the message is redacted (a user:password in
// --prometheus-address would otherwise reach every journey).
func Set(conds *[]metav1.Condition, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: redact.Text(message), ObservedGeneration: generation,
	})
}

// Remove drops a condition that no longer holds.
func Remove(conds *[]metav1.Condition, typ string) { meta.RemoveStatusCondition(conds, typ) }

// IsTrue reports whether the condition is present and True.
func IsTrue(conds []metav1.Condition, typ string) bool {
	return meta.IsStatusConditionTrue(conds, typ)
}

// MarkReady says the object is reconciled and healthy.
func MarkReady(conds *[]metav1.Condition, generation int64, reason, message string) {
	Remove(conds, cxv1.ConditionReconciling)
	Remove(conds, cxv1.ConditionStalled)
	Set(conds, generation, cxv1.ConditionReady, metav1.ConditionTrue, reason, message)
}

// MarkReconciling says the controller is working towards the desired state
// and will get there without help.
func MarkReconciling(conds *[]metav1.Condition, generation int64, reason, message string) {
	Remove(conds, cxv1.ConditionStalled)
	Set(conds, generation, cxv1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	Set(conds, generation, cxv1.ConditionReady, metav1.ConditionFalse, reason, message)
}

// MarkStalled says the controller cannot make progress until a person acts.
func MarkStalled(conds *[]metav1.Condition, generation int64, reason, message string) {
	Remove(conds, cxv1.ConditionReconciling)
	Set(conds, generation, cxv1.ConditionStalled, metav1.ConditionTrue, reason, message)
	Set(conds, generation, cxv1.ConditionReady, metav1.ConditionFalse, reason, message)
}
