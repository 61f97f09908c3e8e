package controllers

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// The status patch is the status part of client.MergeFrom's, and nothing else.
func TestStatusMergeFromIsTheStatusOfMergeFrom(t *testing.T) {
	before := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "checkout", Namespace: "shop", ResourceVersion: "7"},
		Spec: cxv1.CustomerJourneySpec{Stages: []cxv1.Stage{{Name: "buy", Touchpoints: []cxv1.Touchpoint{{Name: "pay", Channel: "web"}}}}},
		Status: cxv1.CustomerJourneyStatus{HealthScore: ptr.To(int32(40)), ActivePhase: "discovery",
			Gaps: []cxv1.Gap{{Key: "pay", Kind: "NoOwner", Message: "no owner"}}}}
	after := before.DeepCopy()
	after.Status.HealthScore = ptr.To(int32(55))
	after.Status.ActivePhase = "" // removed: null in a merge patch
	after.Status.Gaps = append(after.Status.Gaps, cxv1.Gap{Key: "ship", Kind: "NoOwner"})

	got, err := statusMergeFrom(before).Data(after)
	if err != nil {
		t.Fatal(err)
	}
	full, err := client.MergeFrom(before).Data(after)
	if err != nil {
		t.Fatal(err)
	}
	var g, f map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(full, &f); err != nil {
		t.Fatal(err)
	}
	if len(g) != 1 || g["status"] == nil {
		t.Fatalf("the patch must hold the status alone: %s", got)
	}
	if !equality.Semantic.DeepEqual(g["status"], f["status"]) {
		t.Errorf("status patch %s, MergeFrom's status %s", got, full)
	}

	same, err := statusMergeFrom(before).Data(before.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	if string(same) != "{}" {
		t.Errorf("no change must be an empty patch, got %s", same)
	}
}
