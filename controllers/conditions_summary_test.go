package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func TestSummarizeReady(t *testing.T) {
	const gen = 7
	cond := func(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen - 1}
	}
	readyTrue := cond(cxv1.ConditionReady, metav1.ConditionTrue, "MapScored", "old")
	stalled := cond(cxv1.ConditionStalled, metav1.ConditionTrue, "InvalidMap", "bad")
	reconciling := cond(cxv1.ConditionReconciling, metav1.ConditionTrue, "RateLimited", "wait")
	type want struct {
		ready       metav1.ConditionStatus // "" : absent
		reason, msg string
		reconciling bool
		stalled     bool
	}
	for _, tc := range []struct {
		name   string
		before []metav1.Condition
		record func(*readiness)
		want   want
	}{
		{"all well: Ready=True, the others removed", []metav1.Condition{stalled, reconciling},
			func(r *readiness) { r.Ready("MapScored", "3 touchpoints") },
			want{metav1.ConditionTrue, "MapScored", "3 touchpoints", false, false}},
		{"stalled wins over everything", []metav1.Condition{readyTrue, reconciling},
			func(r *readiness) {
				r.Ready("MapScored", "ok")
				r.Hold("Suspended", "suspended")
				r.Progress("RateLimited", "wait")
				r.Stall("InvalidSchedule", "bad cron")
			},
			want{metav1.ConditionFalse, "InvalidSchedule", "bad cron", false, true}},
		{"reconciling wins over ready and removes Stalled", []metav1.Condition{stalled},
			func(r *readiness) { r.Ready("MapScored", "ok"); r.Progress("SecretNotFound", "apply it") },
			want{metav1.ConditionFalse, "SecretNotFound", "apply it", true, false}},
		{"the last verdict of a kind wins", nil,
			func(r *readiness) { r.Stall("InvalidMap", "first"); r.Stall("InvalidSchedule", "second") },
			want{metav1.ConditionFalse, "InvalidSchedule", "second", false, true}},
		{"not ready: Ready=False alone", []metav1.Condition{readyTrue, reconciling, stalled},
			func(r *readiness) { r.Ready("Tracking", "ok"); r.Hold("Suspended", "spec.suspend is true") },
			want{metav1.ConditionFalse, "Suspended", "spec.suspend is true", false, false}},
		{"a True negative-polarity condition holds Ready back",
			[]metav1.Condition{readyTrue, cond(cxv1.ConditionStale, metav1.ConditionFalse, "Fresh", "no"), cond(cxv1.ConditionReviewOverdue, metav1.ConditionTrue, "Overdue", "review 3 is open")},
			func(r *readiness) {
				r.Ready("MapScored", "ok")
				r.negative = []string{cxv1.ConditionStale, cxv1.ConditionReviewOverdue}
			},
			want{metav1.ConditionFalse, "Overdue", "review 3 is open", false, false}},
		{"negative-polarity conditions that are False or absent leave Ready True",
			[]metav1.Condition{cond(cxv1.ConditionStale, metav1.ConditionFalse, "Fresh", "no")},
			func(r *readiness) {
				r.Ready("MapScored", "ok")
				r.negative = []string{cxv1.ConditionStale, cxv1.ConditionReviewOverdue}
			},
			want{metav1.ConditionTrue, "MapScored", "ok", false, false}},
		{"no verdict keeps what was there", []metav1.Condition{readyTrue, reconciling},
			func(*readiness) {},
			want{metav1.ConditionTrue, "MapScored", "old", true, false}},
		{"no verdict on a new object writes nothing", nil,
			func(*readiness) {},
			want{"", "", "", false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := append([]metav1.Condition(nil), tc.before...)
			var r readiness
			tc.record(&r)
			summarizeReady(&conds, gen, r)
			ready := meta.FindStatusCondition(conds, cxv1.ConditionReady)
			switch {
			case tc.want.ready == "" && ready != nil:
				t.Fatalf("Ready = %+v, want none", ready)
			case tc.want.ready != "" && ready == nil:
				t.Fatalf("no Ready, want %s", tc.want.ready)
			case ready != nil && (ready.Status != tc.want.ready || ready.Reason != tc.want.reason || ready.Message != tc.want.msg):
				t.Errorf("Ready = %s %s %q, want %s %s %q", ready.Status, ready.Reason, ready.Message, tc.want.ready, tc.want.reason, tc.want.msg)
			}
			if got := meta.IsStatusConditionTrue(conds, cxv1.ConditionReconciling); got != tc.want.reconciling {
				t.Errorf("Reconciling = %v, want %v: %+v", got, tc.want.reconciling, conds)
			}
			if got := meta.IsStatusConditionTrue(conds, cxv1.ConditionStalled); got != tc.want.stalled {
				t.Errorf("Stalled = %v, want %v: %+v", got, tc.want.stalled, conds)
			}
			if ready != nil && tc.want.msg != "old" && ready.ObservedGeneration != gen {
				t.Errorf("Ready's observedGeneration = %d, want %d", ready.ObservedGeneration, gen)
			}
		})
	}
}
