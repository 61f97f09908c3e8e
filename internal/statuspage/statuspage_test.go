package statuspage

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journeytest"
)

func newHandler(src Source) http.Handler {
	return New(src, Options{Now: func() time.Time { return fixedNow }})
}

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// between returns the part of s from the first from to the next to.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("%q not found", from)
	}
	k := strings.Index(s[i:], to)
	if k < 0 {
		t.Fatalf("%q not found after %q", to, from)
	}
	return s[i : i+k]
}

func assertContains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func assertOrder(t *testing.T, body string, wants ...string) {
	t.Helper()
	last := -1
	for _, w := range wants {
		i := strings.Index(body, w)
		if i < 0 {
			t.Errorf("page lacks %q", w)
			continue
		}
		if i < last {
			t.Errorf("%q comes too early", w)
		}
		last = i
	}
}

func TestIndex(t *testing.T) {
	src := fixtures()
	res, body := get(t, newHandler(src), http.MethodGet, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if res.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if src.calls != 2 {
		t.Errorf("source called %d times for one page, want 2 (journeys and phases once each)", src.calls)
	}
	assertContains(t, body,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<b>2</b>`,                            // journeys tile
		`<span class="health good">75</span>`, // mean of 62 and 88
		`<b>3</b>`,                            // open items: 2 + 1
	)
	// Journeys in namespace/name order, each with its health band.
	museum := between(t, body, `<article class="card" id="journey_culture_museum-visit"`, `</article>`)
	ferry := between(t, body, `<article class="card" id="journey_transport_harbour-ferry"`, `</article>`)
	assertOrder(t, body, `id="journey_culture_museum-visit"`, `id="journey_transport_harbour-ferry"`)

	assertContains(t, museum,
		`<a href="journeys/culture/museum-visit"><span class="ns">culture/</span>museum-visit</a>`,
		`<span class="health fair" title="Health score (0–100)" data-health="62">62<small>/100</small></span>`,
		"Visitor services", "A family or a student visits the museum.",
		`<p class="ready True"><b>Ready</b>: Map scored; 3 quick wins open</p>`,
		`<b class="open-count">2</b>`,
		`<time>2026-12-01 09:00 UTC</time>`,
		`<span class="badge overdue">Overdue</span>`,
		`<li>Review #7 is still open</li>`,
		`<span class="badge st-Active">Active</span>`,
		`<progress max="100" value="40">40%</progress> 4/10 (40%)`,
		`<progress max="100" value="100">100%</progress> 12/12 (100%)`,
		"2026-12-31", "20 person-days",
		`<svg xmlns="http://www.w3.org/2000/svg"`,
		`<polyline class="ln" points="62,92 118,70 174,114 230,48"`,
		`<polyline class="tg" points="62,48 118,48 174,26"/>`,
		`<li class="p0"><span class="sw"></span>family</li>`,
		`<li class="p1"><span class="sw"></span>student</li>`,
		`<span class="sw dash"></span>target`,
	)
	assertOrder(t, museum, `data-phase="discovery"`, `data-phase="quick-wins"`, `data-phase="long-term"`, `data-phase="one-to-one"`)
	if strings.Contains(museum, "ferry-quick-wins") {
		t.Error("the museum card shows the ferry's phase")
	}

	assertContains(t, ferry,
		`data-health="88">88<small>/100</small>`, `class="health good"`,
		`<b class="open-count">1</b>`,
		`2026-10-01 <span class="badge overdue">overdue</span>`,
		"Phase ferry-quick-wins (Improve) is past its deadline of 2026-10-01.",
		"not scheduled",
		// one persona, two points: a line with markers.
		`<polyline class="ln" points="62,26 118,48"`,
	)
	if strings.Contains(ferry, "sw dash") {
		t.Error("a legend entry for targets on a journey without targets")
	}
	// The overview table links to the cards.
	assertContains(t, body, `<a href="#journey_culture_museum-visit">`, `<a href="#journey_transport_harbour-ferry">`)
}

func TestNoSecrets(t *testing.T) {
	for _, path := range []string{"/", "/journeys/culture/museum-visit"} {
		_, body := get(t, newHandler(fixtures()), http.MethodGet, path)
		for _, secret := range []string{"super-secret-github-token", "secretRef", "SecretRef"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q", path, secret)
			}
		}
	}
}

func TestJourneyPage(t *testing.T) {
	src := fixtures()
	src.journeys[1].Status.Dashboard = &cxv1.IssueReference{Number: 2, URL: "https://github.com/acme/cx/issues/2"}
	res, body := get(t, newHandler(src), http.MethodGet, "/journeys/culture/museum-visit")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	assertContains(t, body,
		"<title>culture/museum-visit · cxloop · customer journeys</title>",
		`<a href="../../">← All journeys</a>`,
		`data-health="62"`,
		`<a href="https://github.com/acme/cx/issues/11" rel="noopener noreferrer">#11</a>`,
		"<b>TouchpointWithoutOwner</b>: Touchpoint cafe has no owner.",
		`<a href="https://github.com/acme/cx/issues/2" rel="noopener noreferrer">Dashboard issue on GitHub</a>`,
		"<td>ReviewOverdue</td><td>True</td>",
	)
	// Oldest open item first; closed ones not listed.
	assertOrder(t, body, "Family ticket in one click", "Show prices on the home page")
	if strings.Contains(body, "<td>Done</td>") {
		t.Error("closed item listed as open work")
	}
	if strings.Contains(body, "harbour-ferry") {
		t.Error("journey page shows another journey")
	}

	res, body = get(t, newHandler(src), http.MethodGet, "/journeys/culture/nope")
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no CustomerJourney culture/nope.") {
		t.Errorf("unknown journey: %d\n%s", res.StatusCode, body)
	}
}

func TestHealthzAndRouting(t *testing.T) {
	h := newHandler(fixtures())
	res, body := get(t, h, http.MethodGet, "/healthz")
	if res.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz: %d %q", res.StatusCode, body)
	}
	if res, _ := get(t, h, http.MethodPost, "/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", res.StatusCode)
	}
	if res, _ := get(t, h, http.MethodGet, "/nothing-here"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", res.StatusCode)
	}
	if res, body := get(t, h, http.MethodHead, "/"); res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /: %d, %d bytes", res.StatusCode, len(body))
	}
}

func TestSourceError(t *testing.T) {
	src := fixtures()
	src.err = errors.New("cache not synced: dial tcp 10.0.0.1:443")
	for _, path := range []string{"/", "/journeys/culture/museum-visit"} {
		res, body := get(t, newHandler(src), http.MethodGet, path)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", path, res.StatusCode)
		}
		if strings.Contains(body, "10.0.0.1") {
			t.Errorf("%s leaks the error: %s", path, body)
		}
	}
	// /healthz does not depend on the source.
	if res, _ := get(t, newHandler(src), http.MethodGet, "/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("healthz with a failing source: %d", res.StatusCode)
	}
}

func TestEscaping(t *testing.T) {
	src := fixtures()
	j := &src.journeys[1]
	j.Name = `evil"><script>alert(1)</script>`
	j.Spec.Owner = `<img src=x onerror=alert(2)>`
	j.Spec.Description = `</p><iframe src="https://evil.example"></iframe>`
	j.Spec.Personas[0].Name = `fam"ily<svg onload=alert(3)>`
	for si := range j.Spec.Stages {
		for ti := range j.Spec.Stages[si].Touchpoints {
			for ei := range j.Spec.Stages[si].Touchpoints[ti].Experiences {
				if j.Spec.Stages[si].Touchpoints[ti].Experiences[ei].Persona == "family" {
					j.Spec.Stages[si].Touchpoints[ti].Experiences[ei].Persona = j.Spec.Personas[0].Name
				}
			}
		}
	}
	j.Spec.Stages[0].Touchpoints[0].Name = `</text><script>alert(4)</script>`
	j.Spec.Stages[0].Name = `]]><foreignObject>`
	j.Status.Conditions[0].Message = `<b>bold</b> & "quoted"`
	j.Status.Dashboard = &cxv1.IssueReference{Number: 1, URL: "javascript:alert(5)"}
	for i := range src.phases {
		if src.phases[i].Name == "quick-wins" {
			src.phases[i].Spec.JourneyRef.Name = j.Name
			src.phases[i].Spec.Owner = `<marquee>boss</marquee>`
			src.phases[i].Status.Items[0].Title = `<script>alert(6)</script>`
			src.phases[i].Status.Items[0].URL = `javascript:alert(7)`
		}
	}
	h := newHandler(src)
	_, index := get(t, h, http.MethodGet, "/")
	_, detail := get(t, h, http.MethodGet, "/journeys/culture/"+strings.NewReplacer(`"`, "%22", "<", "%3C", ">", "%3E", "/", "%2F", " ", "%20").Replace(j.Name))
	if !strings.Contains(detail, "Visitor services") && !strings.Contains(detail, "&lt;img src=x") {
		t.Fatalf("detail page of the hostile journey not found:\n%s", detail)
	}
	for name, body := range map[string]string{"index": index, "detail": detail} {
		for _, bad := range []string{"<script>", "<img", "<iframe", "<svg onload", "<marquee>", "<b>bold</b>", "javascript:", "<foreignObject>", "</text><script>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s page contains %q", name, bad)
			}
		}
	}
	assertContains(t, index,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`&lt;img src=x onerror=alert(2)&gt;`,
		`&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;`,
		`fam&#34;ily&lt;svg onload=alert(3)&gt;`,
		`&lt;marquee&gt;boss&lt;/marquee&gt;`,
		// the link to the journey is path-escaped
		`href="journeys/culture/evil%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`,
	)
	assertContains(t, detail, `&lt;script&gt;alert(6)&lt;/script&gt;`)
}

func TestChartEdgeCases(t *testing.T) {
	j := museum()
	c := buildChart(&j, "x")
	if c == nil || len(c.Series) != 2 {
		t.Fatalf("chart: %+v", c)
	}
	fam, stu := c.Series[0], c.Series[1]
	if fam.Points != "62,92 118,70 174,114 230,48" || fam.Targets != "62,48 118,48 174,26" || fam.Class != "p0" {
		t.Errorf("family series: %+v", fam)
	}
	if stu.Points != "62,48 118,70 174,26" || stu.Targets != "" || stu.TargetN != 0 || stu.Class != "p1" {
		t.Errorf("student series: %+v", stu)
	}
	if !c.HasTargets || c.Touchpoints != 4 || len(c.Stages) != 3 || len(c.Grid) != 5 {
		t.Errorf("chart: %+v", c)
	}
	if c.Grid[0].Label != "+2" || c.Grid[0].Y != 26 || c.Grid[4].Label != "-2" || c.Grid[4].Y != 114 || !c.Grid[2].Zero {
		t.Errorf("grid: %+v", c.Grid)
	}

	// One scored touchpoint: a dot, not a line; a single target: a ring.
	one := museum()
	one.Spec.Stages = one.Spec.Stages[:1]
	one.Spec.Stages[0].Touchpoints = one.Spec.Stages[0].Touchpoints[:1]
	one.Spec.Stages[0].Touchpoints[0].Experiences = []cxv1.Experience{exp("student", 9, -9)} // clamped
	c = buildChart(&one, "y")
	if len(c.Series) != 1 || c.Series[0].Points != "" || c.Series[0].Count != 1 || c.Series[0].DotY != 26 || c.Series[0].TDotY != 114 {
		t.Errorf("single point: %+v", c.Series)
	}
	// The colour still follows spec.personas: student is the second.
	if c.Series[0].Class != "p1" {
		t.Errorf("student colour %s, want p1", c.Series[0].Class)
	}
	rec := httptest.NewRecorder()
	newHandler(&memSource{journeys: []cxv1.CustomerJourney{one}}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assertContains(t, rec.Body.String(), `<circle class="dot" cx="62" cy="26" r="3.5"/>`, `<circle class="tdot" cx="62" cy="114" r="4"/>`)

	// Nothing scored: no chart, a sentence instead.
	none := museum()
	for si := range none.Spec.Stages {
		for ti := range none.Spec.Stages[si].Touchpoints {
			none.Spec.Stages[si].Touchpoints[ti].Experiences = nil
		}
	}
	none.Status = cxv1.CustomerJourneyStatus{}
	if buildChart(&none, "z") != nil {
		t.Error("chart of an unscored journey")
	}
	rec = httptest.NewRecorder()
	newHandler(&memSource{journeys: []cxv1.CustomerJourney{none}}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	assertContains(t, body, "No persona has been scored at any touchpoint yet.", "<small>not scored yet</small>", "Not reconciled yet", "No improvement phase yet.")
	if strings.Contains(body, "<svg") {
		t.Error("svg drawn for an unscored journey")
	}
}

func TestEmpty(t *testing.T) {
	_, body := get(t, newHandler(&memSource{}), http.MethodGet, "/")
	assertContains(t, body, "No CustomerJourney yet.", "<b>0</b>")
}

// TestUniqueIDs checks that every id in the index page is unique, so the
// markers of one chart never colour another.
func TestUniqueIDs(t *testing.T) {
	_, body := get(t, newHandler(bigSource(20, 4)), http.MethodGet, "/")
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if seen[m[1]] {
			t.Fatalf("duplicate id %q", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) < 20 {
		t.Errorf("only %d ids", len(seen))
	}
}

// bigSource holds n journeys of 3 personas, 5 stages of 4 touchpoints, with
// phasesPer phases each.
func bigSource(n, phasesPer int) *memSource {
	return sizedSource(n, phasesPer, 5, 4, []string{"a", "b", "c"})
}

// sizedSource holds n journeys of the given personas, stages of
// touchpoints each, and phasesPer phases each.
func sizedSource(n, phasesPer, stages, touchpoints int, personas []string) *memSource {
	src := &memSource{}
	types := []cxv1.PhaseType{cxv1.PhaseDiscovery, cxv1.PhaseImprove, cxv1.PhasePerfection, cxv1.PhasePersonalization}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("team-%02d", i%10)
		name := fmt.Sprintf("journey-%03d", i)
		j := journeytest.New(ns, name, journeytest.Owner("Team "+ns), journeytest.Personas("", personas...),
			journeytest.StagesOf(touchpoints), journeytest.Touchpoints(stages*touchpoints, func(t *cxv1.Touchpoint, at journeytest.Place) {
				t.Name = fmt.Sprintf("touchpoint-%d-%d", at.Stage, at.InStage)
				for _, p := range personas {
					t.Experiences = append(t.Experiences, exp(p, int32((i+at.Stage+at.InStage+len(p))%5-2), 2))
				}
			}))
		j.Spec.Description = "A generated journey for the benchmark."
		j.Status = cxv1.CustomerJourneyStatus{
			HealthScore:    i32(int32(i % 101)),
			NextReviewTime: mtime("2026-12-01T09:00:00Z"),
			Conditions:     []metav1.Condition{{Type: cxv1.ConditionReady, Status: metav1.ConditionTrue, Message: "ok"}},
		}
		src.journeys = append(src.journeys, *j)
		for k := 0; k < phasesPer; k++ {
			p := phase(ns, name, fmt.Sprintf("%s-%d", name, k), types[k%4], cxv1.PhaseActive, int32(k), 10)
			p.Spec.Deadline = "2026-10-01"
			for it := 0; it < 10; it++ {
				st := cxv1.ItemOpen
				if it < k {
					st = cxv1.ItemClosed
				}
				p.Status.Items = append(p.Status.Items, cxv1.PhaseItem{Key: fmt.Sprint(it), Title: "Item", State: st, Issue: int64(it + 1)})
			}
			src.phases = append(src.phases, p)
		}
	}
	return src
}

func TestGzip(t *testing.T) {
	h := newHandler(bigSource(30, 4))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", rec.Header())
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	_, plain := get(t, h, http.MethodGet, "/")
	if string(page) != plain {
		t.Error("gzipped page differs from the plain one")
	}
	if z := len(rec.Body.Bytes()); z*4 > len(plain) {
		t.Errorf("gzipped %d bytes of %d: expected at least 4:1", z, len(plain))
	}
	req.Header.Set("Accept-Encoding", "gzip;q=0")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func BenchmarkIndex300x4(b *testing.B) {
	h := newHandler(bigSource(300, 4))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

func BenchmarkJourney300x4(b *testing.B) {
	h := newHandler(bigSource(300, 4))
	req := httptest.NewRequest(http.MethodGet, "/journeys/team-05/journey-155", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
