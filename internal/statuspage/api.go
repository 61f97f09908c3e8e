package statuspage

import (
	"bufio"
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
	visible, ok := h.admit(w, r)
	if !ok {
		return
	}
	h.writeAPI(w, r, visible)
}

func (h *handler) apiJourney(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	visible, ok := h.admit(w, r)
	if !ok {
		return
	}
	// A journey the reader may not see answers as one that does not exist.
	if e := find(visible, ns, name); e != nil {
		h.writeAPI(w, r, []*entry{e})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"error":"no such CustomerJourney"}` + "\n"))
}

// apiJourneyOf builds what the JSON shows of journey j but its emotions,
// which are its spec as it is: they are added as it is written out.
func (h *handler) apiJourneyOf(j *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase, now time.Time) *apiJourney {
	aj := &apiJourney{Namespace: j.Namespace, Name: j.Name, Owner: j.Spec.Owner, HealthScore: j.Status.HealthScore, ActivePhase: j.Status.ActivePhase,
		History: j.Status.History, Phases: []apiPhase{}}
	if aj.History == nil {
		aj.History = []cxv1.JourneyHistoryPoint{}
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
	return aj
}

func emotionsOf(j *cxv1.CustomerJourney) []apiEmotion {
	out := []apiEmotion{}
	for _, s := range j.Spec.Stages {
		for _, t := range s.Touchpoints {
			for _, e := range t.Experiences {
				out = append(out, apiEmotion{Persona: e.Persona, Stage: s.Name, Touchpoint: t.Name, AsIs: ptr.Deref(e.Score, 0), ToBe: e.Target})
			}
		}
	}
	return out
}

// writeAPI writes the JSON of the given journeys as json.MarshalIndent
// would, one journey at a time: the whole document is never held.
func (h *handler) writeAPI(w http.ResponseWriter, r *http.Request, entries []*entry) {
	now := h.opts.Now()
	var prog programme
	for _, e := range entries {
		prog.add(e.summary)
	}
	ap := apiProgramme{Phases: prog.Phases, OnTrack: prog.OnTrack, AtRisk: prog.AtRisk, Late: prog.Late,
		NotStarted: prog.NotStarted, Completed: prog.Completed, NoForecast: prog.NoForecast}
	ap.NeedAttention = make([]apiAttention, 0, len(prog.Attention))
	for _, a := range prog.Attention {
		ap.NeedAttention = append(ap.NeedAttention, apiAttention{Journey: a.Journey, Phase: a.Phase, Schedule: a.schedule, Since: a.Since})
	}
	head, err := json.MarshalIndent(struct {
		GeneratedAt time.Time    `json:"generatedAt"`
		Programme   apiProgramme `json:"programme"`
	}{now.UTC().Truncate(time.Second), ap}, "", "  ")
	if err != nil {
		h.fail(w, "encoding JSON", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	bw := h.writers.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() { bw.Reset(nil); h.writers.Put(bw) }()
	_, _ = bw.Write(head[:len(head)-2]) // without "\n}"
	_, _ = bw.WriteString(",\n  \"journeys\": [")
	// One encoder for all: it reuses its buffers from journey to journey.
	enc := json.NewEncoder(lastNewlineDropped{bw})
	enc.SetIndent("    ", "  ")
	for i, e := range entries {
		aj := *e.api
		aj.Emotions = emotionsOf(e.journey)
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_, _ = bw.WriteString("\n    ")
		if err := enc.Encode(aj); err != nil {
			if h.opts.Logger != nil {
				h.opts.Logger.Error("status page: encoding JSON", "journey", key(e.ns, e.name), "error", err)
			}
			return // the client sees JSON cut short, not a wrong document
		}
	}
	if len(entries) > 0 {
		_, _ = bw.WriteString("\n  ")
	}
	_, _ = bw.WriteString("]\n}\n")
	_ = bw.Flush()
}

// lastNewlineDropped drops the newline json.Encoder writes after each
// value (in the same Write), so that values can be laid out as
// json.MarshalIndent lays out a list.
type lastNewlineDropped struct{ w *bufio.Writer }

func (d lastNewlineDropped) Write(b []byte) (int, error) {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	_, err := d.w.Write(b)
	return n, err
}
