package conditions

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func TestKstatusTransitions(t *testing.T) {
	var conds []metav1.Condition
	MarkReconciling(&conds, 1, "Opening", "opening issues")
	if !IsTrue(conds, cxv1.ConditionReconciling) || IsTrue(conds, cxv1.ConditionReady) {
		t.Fatalf("after MarkReconciling: %+v", conds)
	}
	MarkStalled(&conds, 2, "InvalidMap", "bad")
	if meta.FindStatusCondition(conds, cxv1.ConditionReconciling) != nil {
		t.Errorf("Stalled must remove Reconciling: %+v", conds)
	}
	if c := meta.FindStatusCondition(conds, cxv1.ConditionStalled); c == nil || c.ObservedGeneration != 2 || c.Message != "bad" {
		t.Errorf("stalled condition %+v", c)
	}
	MarkReady(&conds, 3, "Scored", "ok")
	if len(conds) != 1 || conds[0].Type != cxv1.ConditionReady || conds[0].Status != metav1.ConditionTrue || conds[0].ObservedGeneration != 3 {
		t.Errorf("after MarkReady only Ready=True at generation 3 should remain: %+v", conds)
	}
}
