package statuspage

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/history"
)

// memSource is an in-memory Source. It hands out copies, as a cache would.
type memSource struct {
	mu       sync.Mutex
	journeys []cxv1.CustomerJourney
	phases   []cxv1.ImprovementPhase
	err      error
	calls    int
}

func (m *memSource) Journeys(context.Context) ([]cxv1.CustomerJourney, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return nil, m.err
	}
	out := make([]cxv1.CustomerJourney, len(m.journeys))
	for i := range m.journeys {
		m.journeys[i].DeepCopyInto(&out[i])
	}
	return out, nil
}

func (m *memSource) Phases(context.Context) ([]cxv1.ImprovementPhase, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return nil, m.err
	}
	out := make([]cxv1.ImprovementPhase, len(m.phases))
	for i := range m.phases {
		m.phases[i].DeepCopyInto(&out[i])
	}
	return out, nil
}

var fixedNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func i32(v int32) *int32 { return &v }

func mtime(s string) *metav1.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	mt := metav1.NewTime(t)
	return &mt
}

func exp(p string, score int32, target ...int32) cxv1.Experience {
	e := cxv1.Experience{Persona: p, Score: &score}
	if len(target) > 0 {
		e.Target = i32(target[0])
	}
	return e
}

// museum is a journey with two personas, targets for one, a secret
// reference that must never show, and a ReviewOverdue condition.
func museum() cxv1.CustomerJourney {
	return cxv1.CustomerJourney{
		ObjectMeta: metav1.ObjectMeta{Namespace: "culture", Name: "museum-visit"},
		Spec: cxv1.CustomerJourneySpec{
			Owner:       "Visitor services",
			Description: "A family or a student visits the museum.",
			Personas:    []cxv1.Persona{{Name: "family"}, {Name: "student"}},
			Stages: []cxv1.Stage{
				{Name: "orientation", Touchpoints: []cxv1.Touchpoint{
					{Name: "website", Channel: "web", Experiences: []cxv1.Experience{exp("family", -1, 1), exp("student", 1)}},
					{Name: "social-ad", Channel: "social", Experiences: []cxv1.Experience{exp("family", 0, 1), exp("student", 0)}},
				}},
				{Name: "booking", Touchpoints: []cxv1.Touchpoint{
					{Name: "ticket-shop", Channel: "web", MomentOfTruth: ptr.To(true), Experiences: []cxv1.Experience{exp("family", -2, 2), exp("student", 2)}},
				}},
				{Name: "visit", Touchpoints: []cxv1.Touchpoint{
					{Name: "cafe", Channel: "in-person", Experiences: []cxv1.Experience{exp("family", 1)}},
				}},
			},
			Tracker: &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{
				Owner: "acme", Repo: "cx", SecretRef: cxv1.SecretReference{Name: "super-secret-github-token"},
			}},
		},
		Status: cxv1.CustomerJourneyStatus{
			HealthScore:    i32(62),
			ActivePhase:    "quick-wins",
			NextReviewTime: mtime("2026-12-01T09:00:00Z"),
			Gaps:           []cxv1.Gap{{Key: "g1", Kind: "TouchpointWithoutOwner", Message: "Touchpoint cafe has no owner."}},
			Conditions: []metav1.Condition{
				{Type: cxv1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Reconciled", Message: "Map scored; 3 quick wins open"},
				{Type: cxv1.ConditionReviewOverdue, Status: metav1.ConditionTrue, Reason: "ReviewOpen", Message: "Review #7 is still open"},
			},
		},
	}
}

// harbour is a healthy journey whose Improve phase is past its deadline.
func harbour() cxv1.CustomerJourney {
	return cxv1.CustomerJourney{
		ObjectMeta: metav1.ObjectMeta{Namespace: "transport", Name: "harbour-ferry"},
		Spec: cxv1.CustomerJourneySpec{
			Owner:    "Ferry operations",
			Personas: []cxv1.Persona{{Name: "commuter"}},
			Stages: []cxv1.Stage{{Name: "ride", Touchpoints: []cxv1.Touchpoint{
				{Name: "gate", Channel: "in-person", Experiences: []cxv1.Experience{exp("commuter", 2)}},
				{Name: "app", Channel: "mobile-app", Experiences: []cxv1.Experience{exp("commuter", 1)}},
			}}},
		},
		Status: cxv1.CustomerJourneyStatus{
			HealthScore: i32(88),
			Conditions:  []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Reconciled", Message: "All good"}},
		},
	}
}

func phase(ns, journey, name string, typ cxv1.PhaseType, state cxv1.PhaseState, closed, total int32) cxv1.ImprovementPhase {
	pct := int32(0)
	if total > 0 {
		pct = closed * 100 / total
	}
	ph := cxv1.ImprovementPhase{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cxv1.ImprovementPhaseSpec{JourneyRef: cxv1.JourneyReference{Name: journey}, Type: typ, Owner: "CX team"},
		Status: cxv1.ImprovementPhaseStatus{State: state, Progress: cxv1.PhaseProgress{
			Closed: closed, Total: total, Percent: pct, Summary: fmt.Sprintf("%d/%d (%d%%)", closed, total, pct),
		}},
	}
	if state != cxv1.PhasePending {
		ph.Status.StartedAt = mtime("2026-06-01T09:00:00Z")
	}
	return ph
}

// museumHistory is half a year of the museum's figures, recorded as the
// controller records them, on a fixed clock: health from 48 to 62.
func museumHistory() []cxv1.JourneyHistoryPoint {
	var pts []history.Point
	at := time.Date(2026, 5, 25, 9, 0, 0, 0, time.UTC)
	for week := 0; at.Before(fixedNow); week++ {
		p := history.Point{At: at, Health: 48 + min(week/2, 14), Touchpoints: 4, Gaps: max(3-week/8, 1), OpenPainPoints: 8 - min(week/4, 6), EmotionGap: 150 - week}
		pts, _, _ = history.Record(pts, p, history.Policy{})
		at = at.Add(7 * 24 * time.Hour)
	}
	out := make([]cxv1.JourneyHistoryPoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, cxv1.JourneyHistoryPoint{Time: metav1.NewTime(p.At), HealthScore: int32(p.Health), Touchpoints: int32(p.Touchpoints),
			Gaps: int32(p.Gaps), OpenPainPoints: int32(p.OpenPainPoints), EmotionGapHundredths: int32(p.EmotionGap)})
	}
	return out
}

func fixtures() *memSource {
	improve := phase("culture", "museum-visit", "quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 4, 10)
	improve.Spec.Deadline = "2026-12-31"
	improve.Spec.Budget = "20 person-days"
	improve.Status.Items = []cxv1.PhaseItem{
		{Key: "a", Title: "Show prices on the home page", State: cxv1.ItemOpen, Issue: 14, URL: "https://github.com/acme/cx/issues/14", OpenedAt: mtime("2026-10-05T10:00:00Z")},
		{Key: "b", Title: "Family ticket in one click", State: cxv1.ItemOpen, Issue: 11, URL: "https://github.com/acme/cx/issues/11", OpenedAt: mtime("2026-09-01T10:00:00Z")},
		{Key: "c", Title: "Done", State: cxv1.ItemClosed, Issue: 3, OpenedAt: mtime("2026-09-01T10:00:00Z"), ClosedAt: mtime("2026-09-20T10:00:00Z")},
		{Key: "d", Title: "Done too", State: cxv1.ItemClosed, Issue: 4, OpenedAt: mtime("2026-09-01T10:00:00Z"), ClosedAt: mtime("2026-10-10T10:00:00Z")},
		{Key: "e", Title: "Done as well", State: cxv1.ItemClosed, Issue: 5, OpenedAt: mtime("2026-09-01T10:00:00Z"), ClosedAt: mtime("2026-11-02T10:00:00Z")},
		{Key: "f", Title: "Done lately", State: cxv1.ItemClosed, Issue: 6, OpenedAt: mtime("2026-10-05T10:00:00Z"), ClosedAt: mtime("2026-11-16T10:00:00Z")},
		{Key: "g", Title: "Planned 1", State: cxv1.ItemPlanned},
		{Key: "h", Title: "Planned 2", State: cxv1.ItemPlanned},
		{Key: "i", Title: "Planned 3", State: cxv1.ItemPlanned},
		{Key: "j", Title: "Planned 4", State: cxv1.ItemPlanned},
	}
	// Two closed in the last 28 days: half an item a week; six remaining
	// take until February, after the deadline of 31 December: at risk.
	improve.Status.StartedAt = mtime("2026-09-01T09:00:00Z")
	improve.Status.Forecast = &cxv1.PhaseForecast{Schedule: cxv1.ScheduleAtRisk, Since: mtime("2026-11-16T10:00:00Z")}
	discovery := phase("culture", "museum-visit", "discovery", cxv1.PhaseDiscovery, cxv1.PhaseCompleted, 12, 12)
	perfection := phase("culture", "museum-visit", "long-term", cxv1.PhasePerfection, cxv1.PhasePending, 0, 0)
	personal := phase("culture", "museum-visit", "one-to-one", cxv1.PhasePersonalization, cxv1.PhasePending, 0, 0)
	ferry := phase("transport", "harbour-ferry", "ferry-quick-wins", cxv1.PhaseImprove, cxv1.PhaseActive, 1, 3)
	ferry.Spec.Deadline = "2026-10-01" // past and not completed: overdue
	ferry.Status.Items = []cxv1.PhaseItem{
		{Key: "x", Title: "Faster gate", State: cxv1.ItemOpen, Issue: 5},
		{Key: "y", Title: "Clear timetable", State: cxv1.ItemClosed, Issue: 4, ClosedAt: mtime("2026-09-01T10:00:00Z")},
		{Key: "z", Title: "Ticket in the app", State: cxv1.ItemPlanned},
	}
	discovery.Status.CompletedAt = mtime("2026-08-31T16:00:00Z")
	m := museum()
	m.Status.History = museumHistory()
	return &memSource{
		journeys: []cxv1.CustomerJourney{harbour(), m},
		phases:   []cxv1.ImprovementPhase{personal, ferry, improve, perfection, discovery},
	}
}
