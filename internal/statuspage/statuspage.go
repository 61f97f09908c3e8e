// Package statuspage serves a read-only status page of the customer
// journeys for leadership: every journey with its health score, its Ready
// message, each persona's emotion curve across the touchpoints (inline SVG),
// its improvement phases with their progress, its open and overdue work and
// its next review. The page is rendered on the server (html/template, no
// JavaScript) and reads well on a phone.
//
// It only reads CustomerJourneys and ImprovementPhases, and never shows a
// journey's tracker settings: no repository credentials, no secret name,
// nor a condition message that names a Secret or carries a raw error. Each
// reader sees the namespaces their Gate allows (package pageauth: what
// Kubernetes lets them list). Each journey's views are built once per
// change and shared by all readers.
package statuspage

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"embed"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/dashboard"
	"github.com/cxloop/cxloop/internal/pageauth"
	"github.com/cxloop/cxloop/internal/phaseview"
)

// Source lists the objects the page shows. The manager implements it over
// its informer cache; the page calls each method once per request.
type Source interface {
	Journeys(ctx context.Context) ([]cxv1.CustomerJourney, error)
	Phases(ctx context.Context) ([]cxv1.ImprovementPhase, error)
}

// Options tune the page. The zero value is ready to use.
type Options struct {
	// Title heads every page; "cxloop · customer journeys" when empty.
	Title string
	// Now is the clock used to find phases past their deadline; time.Now
	// when nil.
	Now func() time.Time
	// Location is the time zone dates are shown in; UTC when nil.
	Location *time.Location
	// Logger receives the errors of the Source and of rendering; they are
	// dropped when nil. The page itself only says that the data is unavailable.
	Logger *slog.Logger
	// Gate decides who may read the page and which namespaces they see
	// (see package pageauth); nil shows every namespace to anyone.
	Gate pageauth.Gate
	// MaxConcurrent bounds the requests served at once (4 when zero);
	// MaxWaiting how many more wait for one of them (64 when zero, -1 for
	// none), at most WaitFor (30s when zero). Beyond that: 503 Retry-After.
	MaxConcurrent, MaxWaiting int
	WaitFor                   time.Duration
}

// Paths served by the handler.
const (
	PathIndex   = "/"
	PathHealthz = "/healthz"
	// PathJourney is the pattern of one journey's page.
	PathJourney = "/journeys/{namespace}/{name}"
	// PathAPIJourneys serves the same data as JSON, for BI tools.
	PathAPIJourneys = "/api/v1/journeys"
	// PathAPIJourney is the pattern of one journey's JSON.
	PathAPIJourney = "/api/v1/journeys/{namespace}/{name}"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

type handler struct {
	src     Source
	opts    Options
	mux     *http.ServeMux
	writers sync.Pool // *bufio.Writer
	gzips   sync.Pool // *gzip.Writer
	flates  sync.Pool // *flate.Writer
	slots   *limiter
	// authSlots bounds the identities being checked at once (each a
	// TokenReview the first time), before a render slot is taken.
	authSlots *limiter
	views     views
}

// New returns the handler of the status page: GET / lists every journey,
// GET /journeys/{namespace}/{name} shows one, GET /healthz answers 200 "ok".
// Links are relative, so the page also works behind a path prefix.
func New(r Source, opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "cxloop · customer journeys"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Gate == nil {
		opts.Gate = pageauth.Open{}
	}
	h := &handler{src: r, opts: opts, mux: http.NewServeMux(), slots: newLimiter(opts.MaxConcurrent, opts.MaxWaiting, opts.WaitFor),
		authSlots: newLimiter(authConcurrent, opts.MaxWaiting, opts.WaitFor)}
	h.writers.New = func() any { return bufio.NewWriterSize(nil, 32<<10) }
	h.gzips.New = func() any { zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return zw }
	h.flates.New = func() any { zw, _ := flate.NewWriter(nil, flate.BestSpeed); return zw }
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET "+PathHealthz, healthz)
	h.mux.HandleFunc("GET "+PathJourney, h.journey)
	h.mux.HandleFunc("GET "+PathAPIJourneys, h.apiJourneys)
	h.mux.HandleFunc("GET "+PathAPIJourney, h.apiJourney)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("Cache-Control", "no-store")
	if r.URL.Path != PathHealthz {
		// Who asks is known before a render slot is taken: strangers with
		// made-up tokens wait in a line of their own, and cannot hold the
		// slots of readers who signed in.
		id, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		if !h.slots.acquire(r.Context()) {
			busy(w)
			return
		}
		defer h.slots.release()
	}
	h.mux.ServeHTTP(w, r)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// indexPage is what the index template shows.
type indexPage struct {
	Title     string
	Root      string // relative link to the index
	API       string // relative link to the same as JSON
	Journeys  []*journeyView
	Totals    totals
	Programme programme
}

type totals struct {
	Journeys  int
	Scored    int
	MeanScore int
	MeanBand  string
	Open      int
	Overdue   int
	Phases    int
}

// journeyPage is what the journey template shows.
type journeyPage struct {
	Title     string
	Root      string
	API       string
	Journey   *journeyView
	Programme programme
}

// programme is the overview leadership reads first: how many phases are on
// track, at risk or late, and which need attention since when.
type programme struct {
	Phases     int
	OnTrack    int
	AtRisk     int
	Late       int
	NotStarted int
	Completed  int
	NoForecast int // not enough data, or no deadline
	Attention  []attention
}

type attention struct {
	Journey, Anchor, Link string
	Phase, Type           string
	Schedule              string
	schedule              burnup.Schedule
	Class                 string
	Since                 string
	Projected             string
	Deadline              string
	Reason                string
}

func (p *programme) add(v *journeyView) {
	for _, ph := range v.Phases {
		p.Phases++
		switch ph.Schedule {
		case burnup.OnTrack:
			p.OnTrack++
		case burnup.AtRisk:
			p.AtRisk++
		case burnup.Late:
			p.Late++
		case burnup.NotStarted:
			p.NotStarted++
		case burnup.Completed:
			p.Completed++
		default:
			p.NoForecast++
		}
		if ph.Schedule == burnup.AtRisk || ph.Schedule == burnup.Late {
			p.Attention = append(p.Attention, attention{
				Journey: v.Namespace + "/" + v.Name, Anchor: v.Anchor, Link: v.Link, Phase: ph.Name, Type: ph.Type,
				Schedule: ph.ScheduleText, schedule: ph.Schedule, Class: ph.ScheduleClass, Since: ph.Since, Projected: ph.Projected, Deadline: ph.Deadline, Reason: ph.Forecast,
			})
		}
	}
}

type journeyView struct {
	Namespace, Name string
	Owner           string
	Description     string
	Link            string // relative to the index
	Anchor          string
	HealthText      string
	HealthBand      string // good, fair, poor or none
	HealthValue     int32
	HasHealth       bool
	ReadyStatus     string // True, False, Unknown or ""
	ReadyMessage    string
	Chart           *chartView
	HealthChart     template.HTML
	HistoryPoints   int
	// Card is the journey's card rendered once when the view is built;
	// the index shows it as it is.
	Card           template.HTML
	Phases         []phaseView
	ActivePhase    string
	Open           int
	Overdue        []string // why the journey's work is overdue
	NextReview     string
	NextReviewPast bool
	LastReview     string
	Gaps           []cxv1.Gap
	Conditions     []metav1.Condition
	OpenItems      []itemView
	Outcomes       []outcomeView
	Measures       []measureView
	DashboardURL   string
	ReviewIssueURL string
	ReviewIssue    int64
}

type phaseView struct {
	Name, Type, State   string
	Owner, Budget       string
	Deadline            string
	Overdue             bool
	Closed, Total, Open int32
	Percent             int32
	Planned             int32
	Active              bool
	// NotStarted: a Pending phase shows "not started", never a bar.
	NotStarted    bool
	Schedule      burnup.Schedule
	ScheduleText  string
	ScheduleClass string
	Since         string // when the schedule began, if known
	Projected     string // projected completion, YYYY-MM-DD
	PerWeek       string // recent closing rate
	Forecast      string // how the forecast was made
	Burnup        template.HTML
}

// outcomeView is a closed item whose measure judged (or will judge) whether
// the customer felt the difference.
type outcomeView struct {
	Phase, Title, URL string
	Issue             int64
	Measure           string
	Baseline, After   string
	Verdict, Class    string
	Message           string
}

type itemView struct {
	Phase, Type, Title string
	Issue              int64
	URL                string
	Opened             string
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	visible, ok := h.admit(w, r)
	if !ok {
		return
	}
	page := indexPage{Title: h.opts.Title, Root: "./", API: "api/v1/journeys", Journeys: make([]*journeyView, 0, len(visible))}
	var sum int
	for _, e := range visible {
		v := e.summary
		page.Journeys = append(page.Journeys, v)
		page.Programme.add(v)
		page.Totals.Journeys++
		page.Totals.Open += v.Open
		page.Totals.Phases += len(v.Phases)
		if len(v.Overdue) > 0 {
			page.Totals.Overdue++
		}
		if v.HasHealth {
			page.Totals.Scored++
			sum += int(v.HealthValue)
		}
	}
	page.Totals.MeanBand = "none"
	if page.Totals.Scored > 0 {
		page.Totals.MeanScore = (sum + page.Totals.Scored/2) / page.Totals.Scored
		page.Totals.MeanBand = band(int32(page.Totals.MeanScore))
	}
	h.render(w, r, "index.html", http.StatusOK, page, func(w io.Writer) error {
		if err := h.writeCards(w, visible); err != nil {
			return err
		}
		return pageTemplates.ExecuteTemplate(w, "foot", nil)
	})
}

func (h *handler) journey(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	visible, ok := h.admit(w, r)
	if !ok {
		return
	}
	// A journey the reader may not see answers as one that does not exist.
	if e := find(visible, ns, name); e != nil {
		v := e.detailView(h)
		page := journeyPage{Title: h.opts.Title, Root: "../../", API: "../../api/v1/journeys/" + url.PathEscape(ns) + "/" + url.PathEscape(name), Journey: v}
		page.Programme.add(v)
		h.render(w, r, "journey.html", http.StatusOK, page)
		return
	}
	h.render(w, r, "notfound.html", http.StatusNotFound, journeyPage{Title: h.opts.Title, Root: "../../",
		Journey: &journeyView{Namespace: ns, Name: name}})
}

func key(ns, name string) string { return ns + "/" + name }

func (h *handler) fail(w http.ResponseWriter, what string, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.Error("status page: "+what, "error", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte("The journeys are not available right now; try again in a moment.\n"))
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

// render executes a template. A page of a thousand journeys is megabytes of
// HTML, so it is never held whole: it is streamed out as it is rendered,
// compressed on the way when the browser takes gzip (all do).
// then writes what more writes, if any.
func (h *handler) render(w http.ResponseWriter, r *http.Request, name string, status int, data any, more ...func(io.Writer) error) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Add("Vary", "Accept-Encoding")
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	var out io.Writer = w
	if acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		zw := h.gzips.Get().(*gzip.Writer)
		zw.Reset(w)
		defer func() {
			if err := zw.Close(); err != nil && h.opts.Logger != nil {
				h.opts.Logger.Error("status page: sending "+name, "error", err)
			}
			zw.Reset(nil)
			h.gzips.Put(zw)
		}()
		out = zw
	}
	bw := h.writers.Get().(*bufio.Writer)
	bw.Reset(out)
	defer func() { bw.Reset(nil); h.writers.Put(bw) }()
	w.WriteHeader(status)
	err := pageTemplates.ExecuteTemplate(bw, name, data)
	for _, m := range more {
		if err == nil {
			err = m(bw)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && h.opts.Logger != nil {
		// The status line is sent: the reader sees the page cut short.
		h.opts.Logger.Error("status page: rendering "+name, "error", err)
	}
}

// view gathers what the page shows of journey j. detail adds what only the
// journey's own page shows: the gaps, the conditions and the open items.
func (h *handler) view(j *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase, now time.Time, id string, detail bool) *journeyView {
	st := &j.Status
	v := &journeyView{
		Namespace:     j.Namespace,
		Name:          j.Name,
		Owner:         j.Spec.Owner,
		Description:   j.Spec.Description,
		Link:          "journeys/" + url.PathEscape(j.Namespace) + "/" + url.PathEscape(j.Name),
		Anchor:        "journey_" + j.Namespace + "_" + j.Name, // "_" is in neither a namespace nor a name
		ActivePhase:   st.ActivePhase,
		HealthBand:    "none",
		HealthText:    "not scored yet",
		Chart:         buildChart(j, id),
		HealthChart:   healthChart(j.Status.History, now, h.opts.Location, detail),
		HistoryPoints: len(j.Status.History),
	}
	if st.HealthScore != nil {
		v.HasHealth = true
		v.HealthValue = *st.HealthScore
		v.HealthBand = band(*st.HealthScore)
		v.HealthText = strconv.Itoa(int(*st.HealthScore))
	}
	if c := meta.FindStatusCondition(st.Conditions, cxv1.ConditionReady); c != nil {
		v.ReadyStatus = string(c.Status)
		v.ReadyMessage = pageText(c.Reason, c.Message)
	}
	if t := st.NextReviewTime; t != nil && !t.IsZero() {
		v.NextReview = h.formatTime(t.Time)
		v.NextReviewPast = t.Time.Before(now)
	}
	if t := st.LastReviewTime; t != nil && !t.IsZero() {
		v.LastReview = h.formatTime(t.Time)
	}
	if c := meta.FindStatusCondition(st.Conditions, cxv1.ConditionReviewOverdue); c != nil && c.Status == metav1.ConditionTrue {
		msg := "The previous review is still open."
		if c.Message != "" {
			msg = pageText(c.Reason, c.Message)
		}
		v.Overdue = append(v.Overdue, msg)
	}

	sorted := make([]*cxv1.ImprovementPhase, len(phases))
	copy(sorted, phases)
	sort.Slice(sorted, func(a, b int) bool {
		ra, rb := sorted[a].Spec.Type.Order(), sorted[b].Spec.Type.Order()
		if ra != rb {
			return ra < rb
		}
		return sorted[a].Name < sorted[b].Name
	})
	for _, p := range sorted {
		pv := phaseView{
			Name: p.Name, Type: string(p.Spec.Type), State: string(p.Status.State),
			Owner: p.Spec.Owner, Budget: p.Spec.Budget, Deadline: p.Spec.Deadline,
			Overdue: dashboard.Overdue(p, now),
			Closed:  p.Status.Progress.Closed, Total: p.Status.Progress.Total,
			Planned: p.Status.Progress.Planned,
			Percent: min(max(p.Status.Progress.Percent, 0), 100),
			Active:  p.Status.State == cxv1.PhaseActive,
		}
		if pv.State == "" {
			pv.State = "Pending"
		}
		pv.NotStarted = pv.State == string(cxv1.PhasePending)
		bp := phaseview.Burnup(p)
		fc := burnup.Project(bp, now, burnup.Options{})
		pv.Schedule, pv.ScheduleText, pv.ScheduleClass, pv.Forecast = fc.Schedule, scheduleText(fc.Schedule), scheduleClass(fc.Schedule), fc.Reason
		if t := phaseview.Since(p, fc); !t.IsZero() {
			pv.Since = t.In(h.opts.Location).Format(time.DateOnly)
		}
		if !fc.Projected.IsZero() {
			pv.Projected = fc.Projected.In(h.opts.Location).Format(time.DateOnly)
		}
		if fc.RatePerDay > 0 {
			pv.PerWeek = strconv.FormatFloat(fc.PerWeek(), 'f', 1, 64)
		}
		if detail {
			pv.Burnup = burnupChart(p.Name, bp, fc, now, h.opts.Location)
		}
		for i := range p.Status.Items {
			it := &p.Status.Items[i]
			if detail && it.Outcome != nil {
				v.Outcomes = append(v.Outcomes, outcomeOf(p.Name, it))
			}
			if it.State != cxv1.ItemOpen {
				continue
			}
			pv.Open++
			if detail {
				iv := itemView{Phase: p.Name, Type: string(p.Spec.Type), Title: it.Title, Issue: it.Issue, URL: it.URL}
				if iv.Title == "" {
					iv.Title = it.Key
				}
				if it.OpenedAt != nil && !it.OpenedAt.IsZero() {
					iv.Opened = it.OpenedAt.In(h.opts.Location).Format(time.DateOnly)
				}
				v.OpenItems = append(v.OpenItems, iv)
			}
		}
		if len(p.Status.Items) == 0 {
			pv.Open = p.Status.Progress.Open
		}
		v.Open += int(pv.Open)
		if pv.Overdue {
			v.Overdue = append(v.Overdue, "Phase "+p.Name+" ("+string(p.Spec.Type)+") is past its deadline of "+p.Spec.Deadline+".")
		}
		v.Phases = append(v.Phases, pv)
	}
	if detail {
		v.Conditions = make([]metav1.Condition, len(st.Conditions))
		for i, c := range st.Conditions {
			c.Message = pageText(c.Reason, c.Message)
			v.Conditions[i] = c
		}
		targets := measureTargets(&j.Spec)
		v.Measures = make([]measureView, len(st.Measures))
		for i, m := range st.Measures {
			if m.Message != "" {
				m.Message = pageText("", m.Message)
			}
			v.Measures[i] = measureView{MeasureStatus: m, Target: targets[measureKey(m.Stage, m.Touchpoint, m.PainPoint, m.Name)]}
		}
		sort.SliceStable(v.OpenItems, func(a, b int) bool {
			oa, ob := v.OpenItems[a].Opened, v.OpenItems[b].Opened
			if (oa == "") != (ob == "") {
				return oa != ""
			}
			return oa < ob
		})
		if st.Dashboard != nil {
			v.DashboardURL = st.Dashboard.URL
		}
		if st.Review != nil && st.Review.OpenIssue != nil {
			v.ReviewIssueURL = st.Review.OpenIssue.URL
			v.ReviewIssue = st.Review.OpenIssue.Number
		}
	}
	v.Gaps = st.Gaps
	return v
}

// measureView is a reading of status.measures with its target, which the
// map declares.
type measureView struct {
	cxv1.MeasureStatus
	Target string
}

// measureTargets are the targets the map declares, by measureKey.
func measureTargets(spec *cxv1.CustomerJourneySpec) map[string]string {
	out := map[string]string{}
	for _, s := range spec.Stages {
		for _, t := range s.Touchpoints {
			for _, m := range t.Measures {
				out[measureKey(s.Name, t.Name, "", m.Name)] = m.Target
			}
			for _, p := range t.PainPoints {
				for _, m := range p.Measures {
					out[measureKey(s.Name, t.Name, p.ID, m.Name)] = m.Target
				}
			}
		}
	}
	return out
}

func measureKey(stage, touchpoint, painPoint, name string) string {
	return stage + "/" + touchpoint + "/" + painPoint + "/" + name
}

func (h *handler) formatTime(t time.Time) string {
	return t.In(h.opts.Location).Format("2006-01-02 15:04 MST")
}

// band names the colour band of a health score: good from 75, fair from
// 50, poor below.
func band(v int32) string {
	switch {
	case v >= 75:
		return "good"
	case v >= 50:
		return "fair"
	default:
		return "poor"
	}
}

func outcomeOf(phase string, it *cxv1.PhaseItem) outcomeView {
	o := it.Outcome
	ov := outcomeView{Phase: phase, Title: it.Title, URL: it.URL, Issue: it.Issue, Measure: o.Measure,
		Baseline: o.Baseline, After: o.After, Verdict: string(o.Verdict), Message: pageText("", o.Message)}
	if ov.Title == "" {
		ov.Title = it.Key
	}
	switch o.Verdict {
	case cxv1.VerdictImproved:
		ov.Class = "good"
	case cxv1.VerdictWorse:
		ov.Class = "poor"
	case cxv1.VerdictUnchanged, cxv1.VerdictNoData:
		ov.Class = "fair"
	default:
		ov.Class = "none"
	}
	return ov
}
