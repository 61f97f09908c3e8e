package controllers

import (
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
)

// journeySyncInterval is how often a tracked journey's reviews and
// dashboard are checked on GitHub besides webhooks and map changes.
const journeySyncInterval = 10 * time.Minute

// scoreMap fills the journey's summary, health and gaps from the analytics.
// Pain points whose work is closed in any phase no longer count against health.
func scoreMap(cj *cxv1.CustomerJourney, m journey.Map, phases []cxv1.ImprovementPhase) {
	s := journey.Summarize(m, journey.DefaultQuickWins)
	cj.Status.Summary = &cxv1.JourneySummary{
		Personas: int32(s.Personas), Stages: int32(s.Stages), Touchpoints: int32(s.Touchpoints), Channels: int32(s.Channels),
		PainPoints: int32(s.PainPoints), QuickWins: int32(s.QuickWins), MomentsOfTruth: int32(s.MomentsOfTruth), TopTasks: int32(s.TopTasks),
	}
	health := int32(journey.Health(m, resolvedPainPoints(phases)))
	cj.Status.HealthScore = &health
	cj.Status.Gaps = nil
	for _, g := range journey.Gaps(m) {
		cj.Status.Gaps = append(cj.Status.Gaps, cxv1.Gap{Key: g.Key, Kind: string(g.Kind), Message: g.Message})
	}
}

// resolvedPainPoints are the pain points whose issue was closed in any phase.
func resolvedPainPoints(phases []cxv1.ImprovementPhase) map[string]bool {
	resolved := map[string]bool{}
	for _, p := range phases {
		for _, it := range p.Status.Items {
			if it.State == cxv1.ItemClosed && it.Source.PainPoint != "" && it.Source.Kind == itemKindPainPoint {
				resolved[it.Source.PainPoint] = true
			}
		}
	}
	return resolved
}

// activePhase names the journey's Active phase; with several, the earliest in the method's order.
func activePhase(phases []cxv1.ImprovementPhase) string {
	best, bestRank := "", cxv1.PhaseType("").Order()
	for _, p := range phases {
		if p.Status.State != cxv1.PhaseActive {
			continue
		}
		if rank := p.Spec.Type.Order(); rank < bestRank || (rank == bestRank && p.Name < best) {
			best, bestRank = p.Name, rank
		}
	}
	return best
}
