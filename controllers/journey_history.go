package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/history"
	"github.com/cxloop/cxloop/internal/journey"
)

// recordHistory adds the journey's figures, as scoreMap left them, to
// status.history when they changed since the last point, at most once per
// history.DefaultMinInterval and within history.DefaultMaxPoints. It returns
// how long to wait before a change it could not record yet may be; 0 when
// nothing waits. Call it after scoreMap.
func recordHistory(cj *cxv1.CustomerJourney, m journey.Map, phases []cxv1.ImprovementPhase, now time.Time) time.Duration {
	st := &cj.Status
	if st.HealthScore == nil {
		return 0
	}
	cur := history.Measure(now.UTC().Truncate(time.Second), m, int(*st.HealthScore), len(st.Gaps), resolvedPainPoints(phases))
	points := make([]history.Point, 0, len(st.History))
	for _, h := range st.History {
		points = append(points, history.Point{
			At: h.Time.UTC(), Health: int(h.HealthScore), Touchpoints: int(h.Touchpoints), Gaps: int(h.Gaps),
			OpenPainPoints: int(h.OpenPainPoints), EmotionGap: int(h.EmotionGapHundredths),
		})
	}
	points, recorded, wait := history.Record(points, cur, history.Policy{})
	if !recorded {
		return wait
	}
	st.History = make([]cxv1.JourneyHistoryPoint, 0, len(points))
	for _, p := range points {
		st.History = append(st.History, cxv1.JourneyHistoryPoint{
			Time: metav1.NewTime(p.At), HealthScore: int32(p.Health), Touchpoints: int32(p.Touchpoints), Gaps: int32(p.Gaps),
			OpenPainPoints: int32(p.OpenPainPoints), EmotionGapHundredths: int32(p.EmotionGap),
		})
	}
	return 0
}
