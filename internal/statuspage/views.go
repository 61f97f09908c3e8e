package statuspage

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/pageauth"
)

// What a request costs is bounded: each journey's view (its card with its
// SVG charts, its JSON, its figures) is built once when the journey or one
// of its phases changes, and again after refreshEvery because forecasts and
// "overdue" move with the clock; a request only picks the views its reader
// may see, adds up the totals and writes them out. At most MaxConcurrent
// requests are served at once.

// refreshEvery is how old a view may grow before it is built again although
// nothing changed.
const refreshEvery = time.Minute

// entry is one journey's views, built from one version of its objects.
type entry struct {
	ns, name string
	// fp is the version of the objects the views were built from: the
	// resourceVersions of the journey and of its phases. "" (objects
	// without one, as in tests) is never reused.
	fp    string
	built time.Time
	id    string // unique among journeys: the charts' element ids
	// The objects, read-only: the cache's own when it serves them without
	// a copy. The journey's page is built from them when first asked for.
	journey *cxv1.CustomerJourney
	phases  []*cxv1.ImprovementPhase
	summary *journeyView
	card    []byte // the card's HTML, deflated
	api     *apiJourney

	detailOnce sync.Once
	detail     *journeyView
}

func (e *entry) detailView(h *handler) *journeyView {
	e.detailOnce.Do(func() { e.detail = h.view(e.journey, e.phases, e.built, e.id, true) })
	return e.detail
}

type views struct {
	mu    sync.Mutex
	byKey map[string]*entry
}

// fingerprint is the version of a journey and its phases, "" if any has none.
func fingerprint(j *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase) string {
	if j.ResourceVersion == "" {
		return ""
	}
	parts := make([]string, 0, len(phases)+1)
	for _, p := range phases {
		if p.ResourceVersion == "" {
			return ""
		}
		parts = append(parts, p.Name+"@"+p.ResourceVersion)
	}
	slices.Sort(parts)
	return j.ResourceVersion + "|" + strings.Join(parts, ",")
}

// entries lists the journeys and their phases and returns their views,
// sorted by namespace and name, building the ones that changed.
func (h *handler) entries(ctx context.Context) ([]*entry, error) {
	journeys, err := h.src.Journeys(ctx)
	if err != nil {
		return nil, err
	}
	phases, err := h.src.Phases(ctx)
	if err != nil {
		return nil, err
	}
	by := make(map[string][]*cxv1.ImprovementPhase, len(journeys))
	for i := range phases {
		p := &phases[i]
		k := key(p.Namespace, p.Spec.JourneyRef.Name)
		by[k] = append(by[k], p)
	}
	now := h.opts.Now()
	h.views.mu.Lock()
	defer h.views.mu.Unlock()
	next := make(map[string]*entry, len(journeys))
	out := make([]*entry, 0, len(journeys))
	for i := range journeys {
		j := &journeys[i]
		k := key(j.Namespace, j.Name)
		ps := by[k]
		fp := fingerprint(j, ps)
		e := h.views.byKey[k]
		if e == nil || fp == "" || e.fp != fp || now.Sub(e.built) >= refreshEvery || now.Before(e.built) {
			if e, err = h.build(j, ps, fp, now); err != nil {
				return nil, err
			}
		}
		next[k] = e
		out = append(out, e)
	}
	h.views.byKey = next
	slices.SortFunc(out, func(a, b *entry) int {
		if c := strings.Compare(a.ns, b.ns); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// build makes the views of journey j. The card is rendered here, once, and
// the chart models it was rendered from are let go.
func (h *handler) build(j *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase, fp string, now time.Time) (*entry, error) {
	// Copies of the objects' top level, so that the entry does not keep the
	// request's whole list alive; what they refer to is the cache's.
	jc := *j
	j = &jc
	own := make([]*cxv1.ImprovementPhase, len(phases))
	for i, p := range phases {
		pc := *p
		own[i] = &pc
	}
	phases = own
	e := &entry{ns: j.Namespace, name: j.Name, fp: fp, built: now, journey: j, phases: phases,
		id: chartID(j.Namespace, j.Name)}
	v := h.view(j, phases, now, e.id, false)
	// The card with its charts is tens of kilobytes of HTML: kept
	// compressed, a tenth of that.
	var card bytes.Buffer
	zw := h.flates.Get().(*flate.Writer)
	zw.Reset(&card)
	err := pageTemplates.ExecuteTemplate(zw, "card", v)
	if err == nil {
		err = zw.Close()
	}
	h.flates.Put(zw)
	if err != nil {
		return nil, err
	}
	e.card = bytes.Clone(card.Bytes())
	v.Chart, v.HealthChart = nil, ""
	e.summary = v
	e.api = h.apiJourneyOf(j, phases, now)
	return e, nil
}

// authConcurrent is how many identities are checked at once.
const authConcurrent = 8

// identityKey carries the reader's identity from ServeHTTP to the handlers.
type identityKey struct{}

// authenticate finds who the reader is, a few at a time. Otherwise it has
// answered (401, or 503 when too many wait), and returns false.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (pageauth.Identity, bool) {
	if !h.authSlots.acquire(r.Context()) {
		busy(w)
		return pageauth.Identity{}, false
	}
	defer h.authSlots.release()
	id, err := h.opts.Gate.Authenticate(r)
	if err != nil {
		if u, ok := pageauth.IsUnauthenticated(err); ok {
			if u.Challenge != "" {
				w.Header().Set("WWW-Authenticate", u.Challenge)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Sign in to see the customer journeys.\n"))
			return pageauth.Identity{}, false
		}
		h.fail(w, "authenticating", err)
		return pageauth.Identity{}, false
	}
	return id, true
}

// admit returns the views of the journeys the request's reader (found by
// ServeHTTP) may see. Otherwise it has answered, and returns false.
func (h *handler) admit(w http.ResponseWriter, r *http.Request) ([]*entry, bool) {
	id, ok := r.Context().Value(identityKey{}).(pageauth.Identity)
	if !ok {
		h.fail(w, "authenticating", errors.New("no identity on the request"))
		return nil, false
	}
	all, err := h.entries(r.Context())
	if err != nil {
		h.fail(w, "listing journeys", err)
		return nil, false
	}
	var namespaces []string
	for _, e := range all {
		if len(namespaces) == 0 || namespaces[len(namespaces)-1] != e.ns {
			namespaces = append(namespaces, e.ns)
		}
	}
	scope, err := h.opts.Gate.Authorize(r.Context(), id, namespaces)
	if err != nil {
		h.fail(w, "authorising", err)
		return nil, false
	}
	if scope.All() {
		return all, true
	}
	visible := make([]*entry, 0, len(all))
	for _, e := range all {
		if scope.Allows(e.ns) {
			visible = append(visible, e)
		}
	}
	return visible, true
}

// writeCards writes the cards of entries, inflated.
func (h *handler) writeCards(w io.Writer, entries []*entry) error {
	var zr io.ReadCloser
	for _, e := range entries {
		if zr == nil {
			zr = flate.NewReader(bytes.NewReader(e.card))
		} else if err := zr.(flate.Resetter).Reset(bytes.NewReader(e.card), nil); err != nil {
			return err
		}
		if _, err := io.Copy(w, zr); err != nil {
			return err
		}
	}
	return nil
}

// chartID names the elements of a journey's charts: the same on every
// page, and markup-free whatever the name holds.
func chartID(ns, name string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(ns + "/" + name))
	return "c" + strconv.FormatUint(h.Sum64(), 36)
}

func find(entries []*entry, ns, name string) *entry {
	i, ok := slices.BinarySearchFunc(entries, key(ns, name), func(e *entry, k string) int {
		if c := strings.Compare(e.ns, ns); c != 0 {
			return c
		}
		return strings.Compare(e.name, name)
	})
	if !ok {
		return nil
	}
	return entries[i]
}

// limiter bounds the requests served at once, and those waiting for a turn.
type limiter struct {
	slots      chan struct{}
	waiting    atomic.Int32
	maxWaiting int32
	waitFor    time.Duration
}

func newLimiter(concurrent, waiting int, waitFor time.Duration) *limiter {
	if concurrent <= 0 {
		concurrent = 4
	}
	switch {
	case waiting == 0:
		waiting = 64
	case waiting < 0:
		waiting = 0
	}
	if waitFor <= 0 {
		waitFor = 30 * time.Second
	}
	return &limiter{slots: make(chan struct{}, concurrent), maxWaiting: int32(waiting), waitFor: waitFor}
}

// acquire takes a turn, waiting if there is room in the queue; false when
// there is none.
func (l *limiter) acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.waiting.Add(1) > l.maxWaiting {
		l.waiting.Add(-1)
		return false
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.waitFor)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (l *limiter) release() { <-l.slots }

func busy(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", "2")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte("The status page is busy; try again in a moment.\n"))
}

// Messages of conditions are written by cxloop, but some carry an error
// of the API server, GitHub or Prometheus as it came, and the tracker's
// name the credentials Secret. The page is read more widely than the
// resources: such a message is replaced by its reason and a pointer to
// where the details are.
var (
	namesSecret = regexp.MustCompile(`(?i)secret`)
	rawError    = regexp.MustCompile(`(?i)://|\bdial\b|\btcp\b|\bx509\b|certificate|connection refused|no such host|i/o timeout|deadline exceeded|\bEOF\b|\b\d{1,3}(\.\d{1,3}){3}\b|\bstatus code\b|\bunexpected\b|\btoken\b|forbidden|unauthorized`)
)

// GenericMessage replaces a message the page does not show.
const GenericMessage = "details are in the status of the resource (kubectl describe)"

// pageText is what the page shows of a condition's message.
func pageText(reason, msg string) string {
	if msg == "" {
		return reason
	}
	if !namesSecret.MatchString(msg) && !rawError.MatchString(msg) {
		return msg
	}
	if reason == "" {
		return GenericMessage
	}
	return reason + ": " + GenericMessage
}
