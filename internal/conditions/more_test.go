package conditions

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestSetRedactsURLs: a message that carries a URL with user info, as an
// error of --prometheus-address would, reaches the condition without it.
func TestSetRedactsURLs(t *testing.T) {
	var conds []metav1.Condition
	for _, mark := range []func(*[]metav1.Condition, int64, string, string){MarkReady, MarkReconciling, MarkStalled} {
		mark(&conds, 1, "PrometheusUnavailable", `Prometheus at http://cx:s3cret@prom:9090 cannot be reached: Get "http://cx:s3cret@prom:9090/api/v1/query"`)
		for _, c := range conds {
			if c.Message != `Prometheus at http://***@prom:9090 cannot be reached: Get "http://***@prom:9090/api/v1/query"` {
				t.Errorf("%s: message %q", c.Type, c.Message)
			}
		}
	}
}

// TestLastTransitionTimeMovesOnlyWithTheStatus: a new reason, message or
// generation keeps the transition time; a new status moves it.
func TestLastTransitionTimeMovesOnlyWithTheStatus(t *testing.T) {
	past := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	conds := []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Old", LastTransitionTime: past}}
	Set(&conds, 2, cxv1.ConditionReady, metav1.ConditionFalse, "New", "new message")
	c := meta.FindStatusCondition(conds, cxv1.ConditionReady)
	if !c.LastTransitionTime.Equal(&past) || c.Reason != "New" || c.Message != "new message" || c.ObservedGeneration != 2 {
		t.Errorf("same status: %+v", c)
	}
	Set(&conds, 3, cxv1.ConditionReady, metav1.ConditionTrue, "Done", "")
	c = meta.FindStatusCondition(conds, cxv1.ConditionReady)
	if c.LastTransitionTime.Equal(&past) || c.Status != metav1.ConditionTrue {
		t.Errorf("new status kept the old transition time: %+v", c)
	}
}

func TestMarksExcludeEachOther(t *testing.T) {
	for _, tc := range []struct {
		name      string
		marks     []func(*[]metav1.Condition, int64, string, string)
		want      []string // the conditions present, True ones first
		readyTrue bool
	}{
		{"stalled after reconciling", []func(*[]metav1.Condition, int64, string, string){MarkReconciling, MarkStalled}, []string{cxv1.ConditionStalled, cxv1.ConditionReady}, false},
		{"reconciling after stalled", []func(*[]metav1.Condition, int64, string, string){MarkStalled, MarkReconciling}, []string{cxv1.ConditionReconciling, cxv1.ConditionReady}, false},
		{"ready after stalled", []func(*[]metav1.Condition, int64, string, string){MarkStalled, MarkReady}, []string{cxv1.ConditionReady}, true},
		{"reconciling after ready", []func(*[]metav1.Condition, int64, string, string){MarkReady, MarkReconciling}, []string{cxv1.ConditionReady, cxv1.ConditionReconciling}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conds []metav1.Condition
			for _, m := range tc.marks {
				m(&conds, 1, "Reason", "message")
			}
			if len(conds) != len(tc.want) {
				t.Fatalf("conditions %+v, want %v", conds, tc.want)
			}
			for _, typ := range tc.want {
				if meta.FindStatusCondition(conds, typ) == nil {
					t.Errorf("%s missing: %+v", typ, conds)
				}
			}
			if IsTrue(conds, cxv1.ConditionReady) != tc.readyTrue {
				t.Errorf("Ready true %v, want %v", IsTrue(conds, cxv1.ConditionReady), tc.readyTrue)
			}
		})
	}
	if IsTrue(nil, cxv1.ConditionReady) {
		t.Error("a missing condition is true")
	}
	conds := []metav1.Condition{{Type: "X", Status: metav1.ConditionTrue}}
	Remove(&conds, "Y")
	Remove(&conds, "X")
	if len(conds) != 0 {
		t.Errorf("after Remove: %+v", conds)
	}
}
