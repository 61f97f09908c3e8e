package controllers

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestAttemptWriteIsGuardedByResourceVersion: an attempt written from a
// phase read before another process wrote its status is refused with a
// Conflict, against the real API server; one from the phase as it is goes
// through.
func TestAttemptWriteIsGuardedByResourceVersion(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	ph := improvePhase(t, ns, "shop", time.Minute)
	stale := &cxv1.ImprovementPhase{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ph), stale); err != nil {
		t.Fatal(err)
	}
	// The new leader writes the status first.
	theirs := stale.DeepCopy()
	at := metav1.NewTime(time.Now().Truncate(time.Second))
	theirs.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Theirs", Message: "the new leader", LastTransitionTime: at}}
	if err := k8sClient.Status().Patch(ctx, theirs, statusMergeFrom(stale)); err != nil {
		t.Fatal(err)
	}
	// The paused ex-leader resumes and records its attempt from what it read.
	mine := stale.DeepCopy()
	mine.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Mine", Message: "the paused ex-leader", LastTransitionTime: at}}
	err := k8sClient.Status().Patch(ctx, mine, statusMergeFromLocked(stale))
	if !apierrors.IsConflict(err) {
		t.Fatalf("the attempt from a stale phase: %v, want a Conflict", err)
	}
	t.Logf("stale attempt refused: %v", err)
	// From the phase as it is, it goes through (and an unlocked patch of
	// the same change is not refused: the guard is what refuses it).
	fresh := theirs.DeepCopy()
	next := fresh.DeepCopy()
	next.Status.Conditions[0].Message = "the new leader again"
	if err := k8sClient.Status().Patch(ctx, next, statusMergeFromLocked(fresh)); err != nil {
		t.Fatalf("the attempt from the current phase: %v", err)
	}
	if err := k8sClient.Status().Patch(ctx, mine, statusMergeFrom(stale)); err != nil {
		t.Fatalf("unguarded: %v", err)
	}
}
