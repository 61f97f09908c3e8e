package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/pageauth"
)

// TestSecurityHeadersOnEveryAnswer: the page faces every pod; whatever it
// answers, success or failure, carries the same hardening headers.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	failing := fixtures()
	failing.err = errors.New("cache not synced")
	open, gatedH, broken := newHandler(fixtures()), gated(fixtures()), newHandler(failing)
	for _, tt := range []struct {
		name, method, path, token string
		h                         http.Handler
		status                    int
		contentType               string
	}{
		{"index", http.MethodGet, "/", "", open, 200, "text/html; charset=utf-8"},
		{"a journey", http.MethodGet, "/journeys/culture/museum-visit", "", open, 200, "text/html; charset=utf-8"},
		{"a missing journey", http.MethodGet, "/journeys/culture/nope", "", open, 404, "text/html; charset=utf-8"},
		{"the JSON", http.MethodGet, "/api/v1/journeys", "", open, 200, "application/json"},
		{"a journey's JSON", http.MethodGet, "/api/v1/journeys/culture/museum-visit", "", open, 200, "application/json"},
		{"a missing journey's JSON", http.MethodGet, "/api/v1/journeys/culture/nope", "", open, 404, "application/json"},
		{"healthz", http.MethodGet, "/healthz", "", open, 200, "text/plain; charset=utf-8"},
		{"an unknown path", http.MethodGet, "/admin", "", open, 404, "text/plain; charset=utf-8"},
		{"a POST", http.MethodPost, "/api/v1/journeys", "", open, 405, "text/plain; charset=utf-8"},
		{"a DELETE of a journey", http.MethodDelete, "/journeys/culture/museum-visit", "", open, 405, "text/plain; charset=utf-8"},
		{"no token", http.MethodGet, "/", "", gatedH, 401, "text/plain; charset=utf-8"},
		{"a made-up token", http.MethodGet, "/api/v1/journeys", "forged", gatedH, 401, "text/plain; charset=utf-8"},
		{"the source fails", http.MethodGet, "/", "", broken, 503, "text/plain; charset=utf-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			hd := rec.Header()
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
				"Cache-Control":          "no-store",
				"Content-Type":           tt.contentType,
			} {
				if got := hd.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			csp := hd.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "script-src") {
				t.Errorf("the page runs no script, yet the policy allows some: %q", csp)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tt := range []struct {
		headers []string
		want    bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"deflate, br"}, false},
		{[]string{"br, gzip;q=0.8"}, true},
		{[]string{" gzip ; q=0.5 "}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q = 0"}, false},
		{[]string{"x-gzip"}, false},
		{[]string{"gzipper"}, false},
		{[]string{"br", "gzip"}, true},
		{[]string{"identity", "deflate"}, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, h := range tt.headers {
			r.Header.Add("Accept-Encoding", h)
		}
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tt.headers, got, tt.want)
		}
	}
}

func TestLimiterDefaults(t *testing.T) {
	for _, tt := range []struct {
		concurrent, waiting int
		waitFor             time.Duration
		slots, maxWaiting   int
		wantWait            time.Duration
	}{
		{0, 0, 0, 4, 64, 30 * time.Second},
		{-1, -1, -time.Second, 4, 0, 30 * time.Second},
		{2, 5, time.Second, 2, 5, time.Second},
	} {
		l := newLimiter(tt.concurrent, tt.waiting, tt.waitFor)
		if cap(l.slots) != tt.slots || int(l.maxWaiting) != tt.maxWaiting || l.waitFor != tt.wantWait {
			t.Errorf("newLimiter(%d, %d, %s): %d slots, %d waiting, %s", tt.concurrent, tt.waiting, tt.waitFor, cap(l.slots), l.maxWaiting, l.waitFor)
		}
	}
}

// refusedAtOnce asks l for a turn that must be refused without waiting:
// it reports whether one was given, and fails the test if the refusal
// waited (a request let into the queue, which the context ends).
func refusedAtOnce(t *testing.T, l *limiter) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	got := l.acquire(ctx)
	if time.Since(start) > time.Second {
		t.Errorf("the refusal waited %s", time.Since(start))
	}
	return got
}

func TestLimiterBounds(t *testing.T) {
	ctx := context.Background()
	t.Run("no queue: refused at once when full", func(t *testing.T) {
		l := newLimiter(1, -1, time.Hour)
		if !l.acquire(ctx) {
			t.Fatal("the first turn was refused")
		}
		if refusedAtOnce(t, l) {
			t.Fatal("a second turn beyond the bound")
		}
		l.release()
		if !l.acquire(ctx) {
			t.Error("a freed turn was refused")
		}
	})
	t.Run("a waiter gets the turn when it is released", func(t *testing.T) {
		l := newLimiter(1, 1, time.Hour)
		l.acquire(ctx)
		got := make(chan bool)
		go func() { got <- l.acquire(ctx) }()
		for l.waiting.Load() != 1 {
			time.Sleep(time.Millisecond)
		}
		// The queue holds one: a third is refused at once.
		if refusedAtOnce(t, l) {
			t.Error("a request beyond the queue got a turn")
		}
		l.release()
		if !<-got {
			t.Error("the waiter was refused")
		}
		if n := l.waiting.Load(); n != 0 {
			t.Errorf("%d still counted as waiting", n)
		}
	})
	t.Run("a waiter gives up after waitFor", func(t *testing.T) {
		l := newLimiter(1, 4, 50*time.Millisecond)
		l.acquire(ctx)
		start := time.Now()
		if l.acquire(ctx) {
			t.Fatal("a turn although none was released")
		}
		if took := time.Since(start); took < 50*time.Millisecond || took > 5*time.Second {
			t.Errorf("gave up after %s, want 50ms", took)
		}
	})
	t.Run("a waiter whose request is cancelled leaves the queue", func(t *testing.T) {
		l := newLimiter(1, 1, time.Hour)
		l.acquire(ctx)
		cctx, cancel := context.WithCancel(ctx)
		got := make(chan bool)
		go func() { got <- l.acquire(cctx) }()
		for l.waiting.Load() != 1 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if <-got {
			t.Error("a cancelled request got a turn")
		}
		if n := l.waiting.Load(); n != 0 {
			t.Errorf("%d still counted as waiting", n)
		}
	})
}

// failingGate fails authentication or authorisation with an error that
// is not a refusal of the reader: the API server cannot be asked.
type failingGate struct{ authn, authz error }

func (g failingGate) Authenticate(*http.Request) (pageauth.Identity, error) {
	return pageauth.Identity{User: "someone"}, g.authn
}

func (g failingGate) Authorize(context.Context, pageauth.Identity, []string) (pageauth.Scope, error) {
	return pageauth.AllNamespaces(), g.authz
}

// TestFailuresAreLoggedNotShown: a failing gate or source answers 503
// with Retry-After and a plain sentence; the error goes to the log only.
func TestFailuresAreLoggedNotShown(t *testing.T) {
	const detail = "tokenreviews.authentication.k8s.io: dial tcp 10.96.0.1:443"
	phasesFail := &failOnPhases{Source: fixtures(), err: errors.New(detail)}
	for _, tt := range []struct {
		name string
		src  Source
		gate pageauth.Gate
		what string
	}{
		{"authentication", fixtures(), failingGate{authn: errors.New(detail)}, "authenticating"},
		{"authorisation", fixtures(), failingGate{authz: errors.New(detail)}, "authorising"},
		{"listing phases", phasesFail, nil, "listing journeys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := New(tt.src, Options{Now: func() time.Time { return fixedNow }, Gate: tt.gate, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			for _, path := range []string{"/", "/journeys/culture/museum-visit", "/api/v1/journeys", "/api/v1/journeys/culture/museum-visit"} {
				res, body := get(t, h, http.MethodGet, path)
				if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" {
					t.Errorf("GET %s: %d, Retry-After %q; want 503, 5", path, res.StatusCode, res.Header.Get("Retry-After"))
				}
				if body != "The journeys are not available right now; try again in a moment.\n" {
					t.Errorf("GET %s shows %q", path, body)
				}
			}
			if !strings.Contains(logs.String(), "status page: "+tt.what) || !strings.Contains(logs.String(), "10.96.0.1") {
				t.Errorf("the log lacks the failure:\n%s", logs.String())
			}
		})
	}
	t.Run("a refusal without a challenge sends no WWW-Authenticate", func(t *testing.T) {
		h := New(fixtures(), Options{Gate: failingGate{authn: &pageauth.UnauthenticatedError{Reason: "expired"}}})
		res, body := get(t, h, http.MethodGet, "/")
		if res.StatusCode != http.StatusUnauthorized || res.Header.Values("WWW-Authenticate") != nil || body != "Sign in to see the customer journeys.\n" {
			t.Errorf("%d, WWW-Authenticate %q, %q", res.StatusCode, res.Header.Values("WWW-Authenticate"), body)
		}
	})
}

type failOnPhases struct {
	Source
	err error
}

func (f *failOnPhases) Phases(context.Context) ([]cxv1.ImprovementPhase, error) { return nil, f.err }

// TestNotFoundEchoesThePathEscaped: the names of a missing journey come
// from the URL, which anyone writes; the 404 page shows them as text.
func TestNotFoundEchoesThePathEscaped(t *testing.T) {
	h := newHandler(fixtures())
	for _, tt := range []struct{ path, wantText string }{
		{"/journeys/culture/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "culture/&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"/journeys/%22%3E%3Cimg%20src=x%3E/a", "&#34;&gt;&lt;img src=x&gt;/a"},
		{"/journeys/culture/museum-visit%00", "culture/museum-visit\x00"},
	} {
		res, body := get(t, h, http.MethodGet, tt.path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", tt.path, res.StatusCode)
		}
		if !strings.Contains(body, "There is no CustomerJourney "+tt.wantText+".") && !strings.Contains(body, "There is no CustomerJourney "+strings.ReplaceAll(tt.wantText, "\x00", "\uFFFD")+".") {
			t.Errorf("GET %s: the page does not name the journey as text:\n%s", tt.path, between(t, body, `<p class="card">`, `</p>`))
		}
		for _, bad := range []string{"<script>", "<img"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: the page holds %q", tt.path, bad)
			}
		}
		if !strings.Contains(body, `<a href="../../">`) {
			t.Errorf("GET %s: no link back to the index", tt.path)
		}
	}
	res, body := get(t, h, http.MethodGet, "/api/v1/journeys/culture/%3Cscript%3E")
	if res.StatusCode != http.StatusNotFound || body != `{"error":"no such CustomerJourney"}`+"\n" {
		t.Errorf("JSON 404: %d %q", res.StatusCode, body)
	}
}

func TestHeadSendsNoBody(t *testing.T) {
	h := newHandler(fixtures())
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/", 200}, {"/journeys/culture/museum-visit", 200}, {"/journeys/culture/nope", 404},
		{"/api/v1/journeys", 200}, {"/api/v1/journeys/culture/museum-visit", 200},
	} {
		res, body := get(t, h, http.MethodHead, tt.path)
		if res.StatusCode != tt.status || body != "" {
			t.Errorf("HEAD %s: %d with %d bytes; want %d, none", tt.path, res.StatusCode, len(body), tt.status)
		}
	}
}

// hostileJourney is a journey whose every tenant-written text is markup.
func hostileJourney() cxv1.CustomerJourney {
	j := harbour()
	j.Namespace = "tenant"
	j.Name = "ferry"
	j.Spec.Owner = `</script><script>alert("owner")</script>`
	j.Spec.Stages[0].Name = `<b onmouseover=x>stage</b>`
	j.Spec.Stages[0].Touchpoints[0].Name = `gate"><svg/onload=alert(1)>`
	j.Spec.Personas[0].Name = `<persona>`
	j.Spec.Stages[0].Touchpoints[0].Experiences[0].Persona = `<persona>`
	return j
}

// TestJSONEscapesAndRoundTrips: the JSON carries a tenant's markup escaped
// (it may be pasted into a BI tool's HTML) and decodes to the exact text.
func TestJSONEscapesAndRoundTrips(t *testing.T) {
	j := hostileJourney()
	h := newHandler(&memSource{journeys: []cxv1.CustomerJourney{j}})
	for _, path := range []string{"/api/v1/journeys", "/api/v1/journeys/tenant/ferry"} {
		_, body := get(t, h, http.MethodGet, path)
		for _, raw := range []string{"<script>", "<svg", "<b ", "<persona>"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s holds %q unescaped", path, raw)
			}
		}
		var doc apiDoc
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if len(doc.Journeys) != 1 || doc.Journeys[0].Owner != j.Spec.Owner {
			t.Fatalf("GET %s: %+v", path, doc.Journeys)
		}
		e := doc.Journeys[0].Emotions[0]
		if e.Stage != j.Spec.Stages[0].Name || e.Touchpoint != j.Spec.Stages[0].Touchpoints[0].Name || e.Persona != "<persona>" {
			t.Errorf("GET %s: emotion %+v", path, e)
		}
	}
}

// TestHostileTextInThePages: the same journey in the HTML pages, where
// its texts also land in the SVG chart (labels and titles).
func TestHostileTextInThePages(t *testing.T) {
	h := newHandler(&memSource{journeys: []cxv1.CustomerJourney{hostileJourney()}})
	for _, path := range []string{"/", "/journeys/tenant/ferry"} {
		res, body := get(t, h, http.MethodGet, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		for _, raw := range []string{`<script>alert`, "<svg/onload", "<b onmouseover", "<persona>"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s holds %q", path, raw)
			}
		}
		if n := strings.Count(body, "<script"); n != 0 {
			t.Errorf("GET %s holds %d script elements", path, n)
		}
		assertContains(t, body, `&lt;/script&gt;&lt;script&gt;alert(&#34;owner&#34;)&lt;/script&gt;`)
	}
}

func TestBand(t *testing.T) {
	for _, tt := range []struct {
		v    int32
		want string
	}{{100, "good"}, {75, "good"}, {74, "fair"}, {50, "fair"}, {49, "poor"}, {0, "poor"}, {-10, "poor"}} {
		if got := band(tt.v); got != tt.want {
			t.Errorf("band(%d) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestEllipsis(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"äöüäöüäöüäöü", 5, "äöüä…"},
		{"", 3, ""},
	} {
		if got := ellipsis(tt.s, tt.n); got != tt.want {
			t.Errorf("ellipsis(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, tt := range []struct {
		verdict cxv1.Verdict
		class   string
	}{
		{cxv1.VerdictImproved, "good"}, {cxv1.VerdictWorse, "poor"}, {cxv1.VerdictUnchanged, "fair"},
		{cxv1.VerdictNoData, "fair"}, {cxv1.VerdictPending, "none"}, {"", "none"},
	} {
		it := &cxv1.PhaseItem{Key: "pp-1", Issue: 9, Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: tt.verdict, Message: "dial tcp 10.0.0.1:9090"}}
		o := outcomeOf("quick-wins", it)
		if o.Class != tt.class || o.Verdict != string(tt.verdict) {
			t.Errorf("verdict %q: class %q, want %q", tt.verdict, o.Class, tt.class)
		}
		if o.Title != "pp-1" || o.Phase != "quick-wins" || o.Measure != "csat" || o.Issue != 9 {
			t.Errorf("outcome %+v", o)
		}
		if o.Message != GenericMessage {
			t.Errorf("a raw error shows: %q", o.Message)
		}
	}
}

func TestFingerprint(t *testing.T) {
	j := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "j", ResourceVersion: "7"}}
	ph := func(name, rv string) *cxv1.ImprovementPhase {
		return &cxv1.ImprovementPhase{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
	}
	a, b := ph("a", "1"), ph("b", "2")
	if got := fingerprint(j, []*cxv1.ImprovementPhase{b, a}); got != "7|a@1,b@2" {
		t.Errorf("fingerprint = %q", got)
	}
	if fingerprint(j, []*cxv1.ImprovementPhase{a, b}) != fingerprint(j, []*cxv1.ImprovementPhase{b, a}) {
		t.Error("the order of the phases changes the fingerprint")
	}
	if fingerprint(j, []*cxv1.ImprovementPhase{a, ph("b", "3")}) == fingerprint(j, []*cxv1.ImprovementPhase{a, b}) {
		t.Error("a phase's new version keeps the fingerprint")
	}
	if got := fingerprint(j, nil); got != "7|" {
		t.Errorf("without phases: %q", got)
	}
	if got := fingerprint(j, []*cxv1.ImprovementPhase{a, ph("c", "")}); got != "" {
		t.Errorf("a phase without a version: %q, want none", got)
	}
	if got := fingerprint(&cxv1.CustomerJourney{}, []*cxv1.ImprovementPhase{a}); got != "" {
		t.Errorf("a journey without a version: %q, want none", got)
	}
}

// TestViewsRefreshWithTheClock: unchanged views are rebuilt once they are
// refreshEvery old, and when the clock goes back.
func TestViewsRefreshWithTheClock(t *testing.T) {
	src := fixtures()
	for i := range src.journeys {
		src.journeys[i].ResourceVersion = "1"
	}
	for i := range src.phases {
		src.phases[i].ResourceVersion = "1"
	}
	var mu sync.Mutex
	now := fixedNow
	h := New(src, Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}).(*handler)
	view := func() *entry {
		get(t, h, http.MethodGet, "/api/v1/journeys")
		h.views.mu.Lock()
		defer h.views.mu.Unlock()
		return h.views.byKey["culture/museum-visit"]
	}
	set := func(at time.Time) { mu.Lock(); now = at; mu.Unlock() }
	first := view()
	for _, tt := range []struct {
		name    string
		at      time.Time
		rebuilt bool
	}{
		{"just before refreshEvery", fixedNow.Add(refreshEvery - time.Second), false},
		{"at refreshEvery", fixedNow.Add(refreshEvery), true},
		{"the clock went back", fixedNow.Add(-time.Hour), true},
	} {
		set(tt.at)
		e := view()
		if (e != first) != tt.rebuilt {
			t.Errorf("%s: rebuilt %v, want %v", tt.name, e != first, tt.rebuilt)
		}
		first = e
	}
}

func TestFind(t *testing.T) {
	var entries []*entry
	for _, k := range [][2]string{{"a", "x"}, {"a", "y"}, {"a-b", "x"}, {"b", "a"}} {
		entries = append(entries, &entry{ns: k[0], name: k[1]})
	}
	for _, tt := range []struct {
		ns, name string
		found    bool
	}{
		{"a", "x", true}, {"a", "y", true}, {"a-b", "x", true}, {"b", "a", true},
		{"a", "b-x", false}, {"a-b", "y", false}, {"", "", false}, {"c", "x", false}, {"a", "", false},
	} {
		e := find(entries, tt.ns, tt.name)
		if (e != nil) != tt.found || (e != nil && (e.ns != tt.ns || e.name != tt.name)) {
			t.Errorf("find(%q, %q) = %+v, want found %v", tt.ns, tt.name, e, tt.found)
		}
	}
	if find(nil, "a", "x") != nil {
		t.Error("found in nothing")
	}
}

func TestChartIDIsMarkupFree(t *testing.T) {
	id := regexp.MustCompile(`^c[0-9a-z]+$`)
	seen := map[string]string{}
	for _, k := range [][2]string{{"culture", "museum-visit"}, {"culture", "museum-visit2"}, {`"><script>`, `</svg>`}, {"", ""}} {
		got := chartID(k[0], k[1])
		if !id.MatchString(got) {
			t.Errorf("chartID(%q, %q) = %q", k[0], k[1], got)
		}
		if got != chartID(k[0], k[1]) {
			t.Error("not stable")
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%v and %s share the id %s", k, other, got)
		}
		seen[got] = k[0] + "/" + k[1]
	}
}

// TestIndexTotals: the tiles count what the reader sees; the mean health
// is rounded half up and banded; without a score it reads "—".
func TestIndexTotals(t *testing.T) {
	scored := func(ns string, score *int32) cxv1.CustomerJourney {
		j := harbour()
		j.Namespace, j.Status.HealthScore = ns, score
		return j
	}
	for _, tt := range []struct {
		name   string
		scores []*int32
		want   string
	}{
		{"half up", []*int32{i32(50), i32(51)}, "Mean health 51"},
		{"unscored journeys are not counted", []*int32{i32(80), nil, i32(70)}, "Mean health 75"},
		{"none scored", []*int32{nil, nil}, "Mean health —"},
		{"no journeys", nil, "Journeys 0 Mean health —"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &memSource{}
			for i, s := range tt.scores {
				src.journeys = append(src.journeys, scored(string(rune('a'+i)), s))
			}
			_, body := get(t, newHandler(src), http.MethodGet, "/")
			tiles := visibleText(between(t, body, `class="tiles"`, `</section>`))
			if !strings.Contains(tiles, tt.want) {
				t.Errorf("tiles %q lack %q", tiles, tt.want)
			}
		})
	}
}

// TestJourneyViewDetails: what the view of a journey makes of its phases
// and status: the progress bar clamped to 0–100, open items oldest first
// with undated ones last, the overdue reasons, the measures' targets.
func TestJourneyViewDetails(t *testing.T) {
	j := harbour()
	j.Namespace = "transport"
	j.Spec.Stages[0].Touchpoints[0].Measures = []cxv1.Measure{{Name: "wait", Target: "< 60"}}
	j.Spec.Stages[0].Touchpoints[0].PainPoints = []cxv1.PainPoint{{ID: "queue", Measures: []cxv1.Measure{{Name: "wait", Target: "< 30"}}}}
	j.Status.Measures = []cxv1.MeasureStatus{
		{Stage: "ride", Touchpoint: "gate", Name: "wait"},
		{Stage: "ride", Touchpoint: "gate", PainPoint: "queue", Name: "wait", Message: "Get http://prom:9090: EOF"},
		{Stage: "ride", Touchpoint: "app", Name: "unknown"},
	}
	j.Status.NextReviewTime = mtime("2026-11-01T09:00:00Z")
	j.Status.Conditions = append(j.Status.Conditions, metav1.Condition{Type: cxv1.ConditionReviewOverdue, Status: metav1.ConditionTrue, Reason: "ReviewOpen"})
	over := phase("transport", "harbour-ferry", "over", cxv1.PhaseImprove, cxv1.PhaseActive, 3, 2)
	over.Status.Progress.Percent = 150
	over.Spec.Deadline = "2026-01-01"
	over.Status.Items = []cxv1.PhaseItem{
		{Key: "undated", State: cxv1.ItemOpen},
		{Key: "late", Title: "Late", State: cxv1.ItemOpen, OpenedAt: mtime("2026-10-01T00:00:00Z")},
		{Key: "early", Title: "Early", State: cxv1.ItemOpen, OpenedAt: mtime("2026-02-01T00:00:00Z")},
		{Key: "done", State: cxv1.ItemClosed},
	}
	under := phase("transport", "harbour-ferry", "under", cxv1.PhaseDiscovery, "", 0, 0)
	under.Status.Progress.Percent = -5
	under.Status.Progress.Open = 4 // no items: the progress's own count
	h := New(&memSource{}, Options{}).(*handler)
	v := h.view(&j, []*cxv1.ImprovementPhase{&over, &under}, fixedNow, "c1", true)

	if len(v.Phases) != 2 || v.Phases[0].Name != "under" || v.Phases[1].Name != "over" {
		t.Fatalf("phases %+v: want discovery before improve", v.Phases)
	}
	if p := v.Phases[0]; p.Percent != 0 || p.State != "Pending" || !p.NotStarted || p.Open != 4 {
		t.Errorf("phase under: %+v", p)
	}
	if p := v.Phases[1]; p.Percent != 100 || p.Open != 3 || !p.Active || !p.Overdue {
		t.Errorf("phase over: %+v", p)
	}
	if v.Open != 7 {
		t.Errorf("open %d, want 7", v.Open)
	}
	var order []string
	for _, it := range v.OpenItems {
		order = append(order, it.Title)
	}
	if strings.Join(order, ",") != "Early,Late,undated" {
		t.Errorf("open items %v", order)
	}
	wantOverdue := []string{"The previous review is still open.", "Phase over (Improve) is past its deadline of 2026-01-01."}
	if strings.Join(v.Overdue, "|") != strings.Join(wantOverdue, "|") {
		t.Errorf("overdue %q, want %q", v.Overdue, wantOverdue)
	}
	if !v.NextReviewPast || v.NextReview != "2026-11-01 09:00 UTC" {
		t.Errorf("next review %q past %v", v.NextReview, v.NextReviewPast)
	}
	targets := []string{"< 60", "< 30", ""}
	for i, m := range v.Measures {
		if m.Target != targets[i] {
			t.Errorf("measure %d target %q, want %q", i, m.Target, targets[i])
		}
	}
	if v.Measures[1].Message != GenericMessage {
		t.Errorf("a raw error shows: %q", v.Measures[1].Message)
	}
	if s := h.view(&j, nil, fixedNow, "c1", false); s.OpenItems != nil || s.Conditions != nil || s.Measures != nil {
		t.Error("the index's view carries the journey page's details")
	}
}
