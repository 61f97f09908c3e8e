package controllers

import (
	"testing"

	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/workitem"
)

// TestImproveAndPerfectionSplitThePainPoints: whatever the Improve phase's
// selector, every sized pain point is the work of exactly one of the two.
func TestImproveAndPerfectionSplitThePainPoints(t *testing.T) {
	cj := sampleJourney(t, "ns")
	m := journeyMap(&cj.Spec)
	sized := 0
	for _, p := range m.PainPoints() {
		if p.Sized() {
			sized++
		}
	}
	for _, sel := range []*cxv1.PhaseSelector{nil, {MinImpact: ptr.To[int32](5), MaxEffort: ptr.To[int32](1)}, {MinImpact: ptr.To[int32](3), MaxEffort: ptr.To[int32](4)}} {
		improve := cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhaseImprove, Selector: sel}}
		improve.Name = "improve"
		perfection := cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhasePerfection}}
		perfection.Name = "perfection"
		phases := []cxv1.ImprovementPhase{improve, perfection}
		seen := map[string]int{}
		for _, ph := range phases {
			for _, w := range plannedWork(&ph, m, workitem.Phase{Type: string(ph.Spec.Type)}, quickWinRuleOf(phases, &ph)) {
				seen[w.Key]++
			}
		}
		if len(seen) != sized {
			t.Errorf("selector %+v: %d pain points planned, want all %d sized ones", sel, len(seen), sized)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("selector %+v: %s planned by %d phases", sel, k, n)
			}
		}
	}
}
