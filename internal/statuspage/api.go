package statuspage

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/phaseview"
	"k8s.io/utils/ptr"
)

// The JSON endpoint serves what the page shows, for BI tools: every
// journey's health history and emotion curves, and every phase's burn-up
// and forecast. Like the page, it never shows tracker settings.

type apiDoc struct {
	GeneratedAt time.Time    `json:"generatedAt"`
	Programme   apiProgramme `json:"programme"`
	Journeys    []apiJourney `json:"journeys"`
}

type apiProgramme struct {
	Phases     int `json:"phases"`
	OnTrack    int `json:"onTrack"`
	AtRisk     int `json:"atRisk"`
	Late       int `json:"late"`
	NotStarted int `json:"notStarted"`
	Completed  int `json:"completed"`
	NoForecast int `json:"noForecast"`
	// needAttention are the phases at risk or late.
	NeedAttention []apiAttention `json:"needAttention"`
}

type apiAttention struct {
	Journey  string          `json:"journey"`
	Phase    string          `json:"phase"`
	Schedule burnup.Schedule `json:"schedule"`
	Since    string          `json:"since,omitempty"`
}

type apiJourney struct {
	Namespace   string                     `json:"namespace"`
	Name        string                     `json:"name"`
	Owner       string                     `json:"owner"`
	HealthScore *int32                     `json:"healthScore,omitempty"`
	ActivePhase string                     `json:"activePhase,omitempty"`
	History     []cxv1.JourneyHistoryPoint `json:"history"`
	Emotions    []apiEmotion               `json:"emotions"`
	Phases      []apiPhase                 `json:"phases"`
}

// apiEmotion is how one persona feels at one touchpoint: as-is and to-be.
type apiEmotion struct {
	Persona    string `json:"persona"`
	Stage      string `json:"stage"`
	Touchpoint string `json:"touchpoint"`
	AsIs       int32  `json:"asIs"`
	ToBe       *int32 `json:"toBe,omitempty"`
}

type apiPhase struct {
	Name                string          `json:"name"`
	Type                string          `json:"type"`
	State               string          `json:"state"`
	Deadline            string          `json:"deadline,omitempty"`
	Planned             int             `json:"planned"`
	Closed              int             `json:"closed"`
	Schedule            burnup.Schedule `json:"schedule"`
	Since               *time.Time      `json:"since,omitempty"`
	ProjectedCompletion string          `json:"projectedCompletion,omitempty"`
	ClosedPerWeek       float64         `json:"closedPerWeek"`
	Forecast            string          `json:"forecast"`
	Burnup              []apiSample     `json:"burnup"`
}

type apiSample struct {
	Time    time.Time `json:"time"`
	Closed  int       `json:"closed"`
	Planned int       `json:"planned"`
}

func (h *handler) apiJourneys(w http.ResponseWriter, r *http.Request) {
	journeys, byJourney, ok := h.load(w, r)
	if !ok {
		return
	}
	sort.Slice(journeys, func(a, b int) bool {
		if journeys[a].Namespace != journeys[b].Namespace {
			return journeys[a].Namespace < journeys[b].Namespace
		}
		return journeys[a].Name < journeys[b].Name
	})
	h.writeAPI(w, r, journeys, byJourney)
}

func (h *handler) apiJourney(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	journeys, byJourney, ok := h.load(w, r)
	if !ok {
		return
	}
	for i := range journeys {
		if journeys[i].Namespace == ns && journeys[i].Name == name {
			h.writeAPI(w, r, journeys[i:i+1], byJourney)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"error":"no such CustomerJourney"}` + "\n"))
}

func (h *handler) writeAPI(w http.ResponseWriter, r *http.Request, journeys []cxv1.CustomerJourney, byJourney map[string][]*cxv1.ImprovementPhase) {
	now := h.opts.Now()
	doc := apiDoc{GeneratedAt: now.UTC().Truncate(time.Second), Journeys: make([]apiJourney, 0, len(journeys))}
	var prog programme
	for i := range journeys {
		j := &journeys[i]
		phases := byJourney[key(j.Namespace, j.Name)]
		v := h.view(j, phases, now, "", false)
		prog.add(v)
		aj := apiJourney{Namespace: j.Namespace, Name: j.Name, Owner: j.Spec.Owner, HealthScore: j.Status.HealthScore, ActivePhase: j.Status.ActivePhase,
			History: j.Status.History, Emotions: []apiEmotion{}, Phases: []apiPhase{}}
		if aj.History == nil {
			aj.History = []cxv1.JourneyHistoryPoint{}
		}
		for _, s := range j.Spec.Stages {
			for _, t := range s.Touchpoints {
				for _, e := range t.Experiences {
					aj.Emotions = append(aj.Emotions, apiEmotion{Persona: e.Persona, Stage: s.Name, Touchpoint: t.Name, AsIs: ptr.Deref(e.Score, 0), ToBe: e.Target})
				}
			}
		}
		sorted := append([]*cxv1.ImprovementPhase(nil), phases...)
		sort.Slice(sorted, func(a, b int) bool {
			if ra, rb := sorted[a].Spec.Type.Order(), sorted[b].Spec.Type.Order(); ra != rb {
				return ra < rb
			}
			return sorted[a].Name < sorted[b].Name
		})
		for _, p := range sorted {
			bp := phaseview.Burnup(p)
			fc := burnup.Project(bp, now, burnup.Options{})
			ap := apiPhase{Name: p.Name, Type: string(p.Spec.Type), State: string(p.Status.State), Deadline: p.Spec.Deadline,
				Planned: fc.Planned, Closed: fc.Closed, Schedule: fc.Schedule, ClosedPerWeek: fc.PerWeek(), Forecast: fc.Reason, Burnup: []apiSample{}}
			if ap.State == "" {
				ap.State = string(cxv1.PhasePending)
			}
			if t := phaseview.Since(p, fc); !t.IsZero() {
				t = t.UTC()
				ap.Since = &t
			}
			if !fc.Projected.IsZero() {
				ap.ProjectedCompletion = fc.Projected.UTC().Format(time.DateOnly)
			}
			for _, s := range burnup.Series(bp, now) {
				ap.Burnup = append(ap.Burnup, apiSample{Time: s.At.UTC(), Closed: s.Closed, Planned: s.Planned})
			}
			aj.Phases = append(aj.Phases, ap)
		}
		doc.Journeys = append(doc.Journeys, aj)
	}
	doc.Programme = apiProgramme{Phases: prog.Phases, OnTrack: prog.OnTrack, AtRisk: prog.AtRisk, Late: prog.Late,
		NotStarted: prog.NotStarted, Completed: prog.Completed, NoForecast: prog.NoForecast}
	doc.Programme.NeedAttention = make([]apiAttention, 0, len(prog.Attention))
	for _, a := range prog.Attention {
		doc.Programme.NeedAttention = append(doc.Programme.NeedAttention, apiAttention{Journey: a.Journey, Phase: a.Phase, Schedule: a.schedule, Since: a.Since})
	}
	buf, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.fail(w, "encoding JSON", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", itoa(len(buf)+1))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(buf, '\n'))
	}
}
