package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

var (
	phaseProgress = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cxloop_phase_progress_ratio",
		Help: "Share of an improvement phase's items whose issues are closed, 0 to 1.",
	}, []string{"namespace", "phase", "journey", "type"})
	phaseItems = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cxloop_phase_items",
		Help: "Items of an improvement phase by state.",
	}, []string{"namespace", "phase", "state"})
	journeyHealth = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cxloop_journey_health_score",
		Help: "Health score of a customer journey, 0 to 100.",
	}, []string{"namespace", "journey"})
)

func init() {
	metrics.Registry.MustRegister(phaseProgress, phaseItems, journeyHealth)
}

func recordPhaseMetrics(ph *cxv1.ImprovementPhase) {
	p := ph.Status.Progress
	phaseProgress.WithLabelValues(ph.Namespace, ph.Name, ph.Spec.JourneyRef.Name, string(ph.Spec.Type)).Set(float64(p.Percent) / 100)
	for state, n := range map[cxv1.ItemState]int32{cxv1.ItemPlanned: p.Planned, cxv1.ItemOpen: p.Open, cxv1.ItemClosed: p.Closed, cxv1.ItemObsolete: obsoleteCount(ph.Status.Items)} {
		phaseItems.WithLabelValues(ph.Namespace, ph.Name, string(state)).Set(float64(n))
	}
}

func obsoleteCount(items []cxv1.PhaseItem) int32 {
	var n int32
	for _, it := range items {
		if it.State == cxv1.ItemObsolete {
			n++
		}
	}
	return n
}
