package statuspage

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// The browser test renders the status page in a real headless Chromium and
// checks what a person sees. It looks for the browser in $CXLOOP_CHROMIUM,
// then for chromium, chromium-browser, google-chrome and
// google-chrome-stable on $PATH. Without a browser it is skipped, unless
// $CXLOOP_REQUIRE_BROWSER is set: then a missing browser fails the test.
// With $CXLOOP_SCREENSHOT_DIR set it also saves phone- and desktop-sized
// screenshots there.

const browserTimeout = 90 * time.Second

func findBrowser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CXLOOP_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CXLOOP_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CXLOOP_REQUIRE_BROWSER") != "" {
		t.Fatal("CXLOOP_REQUIRE_BROWSER is set but no chromium binary was found (apt-get install -y chromium, or set CXLOOP_CHROMIUM)")
	}
	t.Skip("no chromium binary found on PATH (apt-get install -y chromium, or set CXLOOP_CHROMIUM); set CXLOOP_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// runBrowser runs headless Chromium with args after the common flags and
// returns its standard output.
func runBrowser(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	common := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, browser, append(common, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v (context: %v)\nstderr:\n%s", browser, strings.Join(args, " "), err, ctx.Err(), tail(stderr.String(), 3000))
	}
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

var (
	styleRE = regexp.MustCompile(`(?s)<style[^>]*>.*?</style>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]+>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// visibleText approximates the text of a DOM a person reads: tags and style
// sheets removed, entities decoded, white space collapsed.
func visibleText(dom string) string {
	s := styleRE.ReplaceAllString(dom, " ")
	s = tagRE.ReplaceAllString(s, " ")
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(s), " "))
}

// article returns the DOM of the card of journey ns/name.
func article(t *testing.T, dom, ns, name string) string {
	t.Helper()
	start := strings.Index(dom, `id="journey_`+ns+`_`+name+`"`)
	if start < 0 {
		t.Fatalf("the browser's DOM has no card for %s/%s", ns, name)
	}
	end := strings.Index(dom[start:], "</article>")
	if end < 0 {
		t.Fatalf("card of %s/%s not closed", ns, name)
	}
	return dom[start : start+end]
}

func TestBrowser(t *testing.T) {
	browser := findBrowser(t)
	src := fixtures()
	// A hostile journey: if anything of it were taken as markup, the page
	// would grow an element or an attribute the checks below look for.
	hostile := harbour()
	hostile.Name = "hostile"
	hostile.Spec.Owner = `<img src=x onerror="document.body.setAttribute('data-pwned','1')">`
	hostile.Spec.Description = `<script>document.body.setAttribute('data-pwned','2')</script>`
	src.journeys = append(src.journeys, hostile)

	// Once open as for the demo, once behind token authentication with a
	// proxy in front that adds the bearer token of a reader allowed
	// everywhere, as an authenticating proxy or a browser extension would.
	t.Run("none", func(t *testing.T) {
		browsePage(t, browser, httptest.NewServer(newHandler(src)), hostile)
	})
	t.Run("token", func(t *testing.T) {
		page := gated(src)
		direct := httptest.NewServer(page)
		defer direct.Close()
		if text := visibleText(runBrowser(t, browser, "--dump-dom", direct.URL+"/")); !strings.Contains(text, "Sign in to see the customer journeys.") || strings.Contains(text, "museum") {
			t.Errorf("without a token the browser reads: %s", tail(text, 500))
		}
		withToken := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Authorization", "Bearer lead")
			page.ServeHTTP(w, r)
		})
		browsePage(t, browser, httptest.NewServer(withToken), hostile)
	})
}

func browsePage(t *testing.T, browser string, srv *httptest.Server, hostile cxv1.CustomerJourney) {
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", srv.URL)
	}

	dom := runBrowser(t, browser, "--dump-dom", srv.URL+"/")
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("no DOM from the browser:\n%s", tail(dom, 2000))
	}
	if body := regexp.MustCompile(`<body[^>]*>`).FindString(dom); strings.Contains(body, "data-pwned") || strings.Contains(dom, "<img") || strings.Contains(dom, "<script") {
		t.Errorf("hostile text became markup in the browser:\n%s", article(t, dom, "transport", "hostile"))
	}

	text := visibleText(dom)
	for _, want := range []string{
		"Journeys 3", "Mean health 79", "Open work items 3", "Journeys overdue 2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not read %q; it reads:\n%s", want, tail(text, 1500))
		}
	}

	museum := article(t, dom, "culture", "museum-visit")
	mt := visibleText(museum)
	for _, want := range []string{
		"culture/ museum-visit", "Health 62 /100", "Owner: Visitor services",
		"Ready : Map scored; 3 quick wins open", "Open work: 2", "Next review: 2026-12-01 09:00 UTC",
		"Overdue", "Review #7 is still open",
		"Discovery discovery Completed", "12/12 (100%)",
		"Improve quick-wins Active", "4/10 (40%)", "2026-12-31",
		"Perfection long-term Pending", "Personalization one-to-one Pending",
		"family", "student", "target", "★ moment of truth",
	} {
		if !strings.Contains(mt, want) {
			t.Errorf("the museum card does not read %q; it reads:\n%s", want, mt)
		}
	}
	// The curves are in the DOM as SVG with a polyline per persona, and
	// the progress bars as progress elements with their values.
	for _, want := range []string{"<svg", `<polyline class="ln" points="62,92 118,70 174,114 230,48"`, `<polyline class="tg"`, `<progress max="100" value="40">`} {
		if !strings.Contains(museum, want) {
			t.Errorf("the museum card's DOM lacks %q", want)
		}
	}

	// The programme overview at the top: phases on track, at risk and late,
	// and the ones that need attention since when.
	overview := visibleText(between(t, dom, `data-programme`, `class="overview"`))
	for _, want := range []string{
		"Programme overview", "Phases on track 0", "At risk 1", "Late 1", "Completed 1", "Not started 2",
		"culture/museum-visit : Improve quick-wins at risk since 2026-11-16 2027-02-15 2026-12-31",
		"transport/harbour-ferry : Improve ferry-quick-wins late since 2026-10-02 not enough data 2026-10-01",
	} {
		if !strings.Contains(overview, want) {
			t.Errorf("the programme overview does not read %q; it reads:\n%s", want, overview)
		}
	}
	if i, j := strings.Index(dom, "data-programme"), strings.Index(dom, `id="journey_`); i < 0 || i > j {
		t.Error("the programme overview is not at the top of the page")
	}
	// A Pending phase reads "not started", with no bar.
	for _, name := range []string{"long-term", "one-to-one"} {
		row := between(t, museum, `data-phase="`+name+`"`, `</tr>`)
		if rt := visibleText(row); !strings.Contains(rt, "Pending not started") || strings.Contains(row, "<progress") || strings.Contains(rt, "100%") {
			t.Errorf("pending phase %s reads %q (DOM %s), want \"not started\" without a bar", name, rt, row)
		}
	}
	if rt := visibleText(between(t, museum, `data-phase="quick-wins"`, `</tr>`)); !strings.Contains(rt, "at risk since 2026-11-16 projected 2027-02-15") {
		t.Errorf("the Improve phase is not marked at risk: %q", rt)
	}
	// The health over time, as an SVG line through the recorded points.
	if !regexp.MustCompile(`<svg [^>]*data-chart="health" data-points="26"[^>]*>[\s\S]*?<polyline class="health-line" points="(\d+,\d+ ){20,}`).MatchString(museum) {
		t.Errorf("the museum card has no health chart of its 26 recorded points")
	}

	ferry := visibleText(article(t, dom, "transport", "harbour-ferry"))
	for _, want := range []string{"transport/ harbour-ferry", "Health 88 /100", "Improve ferry-quick-wins Active", "1/3 (33%)", "2026-10-01 overdue", "Phase ferry-quick-wins (Improve) is past its deadline of 2026-10-01."} {
		if !strings.Contains(ferry, want) {
			t.Errorf("the ferry card does not read %q; it reads:\n%s", want, ferry)
		}
	}
	ht := visibleText(article(t, dom, "transport", "hostile"))
	for _, want := range []string{hostile.Spec.Owner, hostile.Spec.Description} {
		if !strings.Contains(ht, want) {
			t.Errorf("the hostile card does not show %q as text; it reads:\n%s", want, ht)
		}
	}

	// One journey's page, reached by the link a person would follow.
	detail := visibleText(runBrowser(t, browser, "--dump-dom", srv.URL+"/journeys/culture/museum-visit"))
	for _, want := range []string{"← All journeys", "culture/ museum-visit", "Health 62 /100", "#11 Family ticket in one click", "#14 Show prices on the home page", "TouchpointWithoutOwner : Touchpoint cafe has no owner."} {
		if !strings.Contains(detail, want) {
			t.Errorf("the journey page does not read %q; it reads:\n%s", want, detail)
		}
	}
	// The journey's page: the burn-up of each started phase with its
	// deadline and forecast, and "not started" for the Pending ones.
	jdom := runBrowser(t, browser, "--dump-dom", srv.URL+"/journeys/culture/museum-visit")
	improve := between(t, jdom, `data-burnup="quick-wins"`, `</div>`)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<svg [^>]*data-chart="burnup" data-phase="quick-wins" data-schedule="AtRisk"`),
		regexp.MustCompile(`<polyline class="closed" points="(\d+,\d+ ?){11}"`), // the start, then a step (two points) at each of 4 closes and today
		regexp.MustCompile(`<line class="scope" `),
		regexp.MustCompile(`<line class="deadline" x1="(\d+)" x2="(\d+)"`),
		regexp.MustCompile(`<text class="deadline-label"[^>]*>deadline 2026-12-31</text>`),
		regexp.MustCompile(`<line class="forecast" `),
		regexp.MustCompile(`<span class="badge risk">at risk</span>`),
	} {
		if !want.MatchString(improve) {
			t.Errorf("the Improve burn-up lacks %s:\n%s", want, improve)
		}
	}
	if it := visibleText(improve); !strings.Contains(it, "2 closed in the last 28 days (0.5 a week): 6 remaining, projected 2027-02-15, after the deadline 2026-12-31") {
		t.Errorf("the Improve burn-up does not say how it was forecast: %q", it)
	}
	// The forecast reaches past the deadline: its end is right of the deadline line.
	dl := regexp.MustCompile(`<line class="deadline" x1="(\d+)"`).FindStringSubmatch(improve)
	fc := regexp.MustCompile(`<line class="forecast" x1="\d+" y1="\d+" x2="(\d+)"`).FindStringSubmatch(improve)
	if dl == nil || fc == nil || mustAtoi(t, fc[1]) <= mustAtoi(t, dl[1]) {
		t.Errorf("the forecast (%v) does not end after the deadline (%v)", fc, dl)
	}
	for _, name := range []string{"long-term", "one-to-one"} {
		b := between(t, jdom, `data-burnup="`+name+`"`, `</div>`)
		if strings.Contains(b, "<svg") || !strings.Contains(visibleText(b), "not started") {
			t.Errorf("the Pending phase %s has a burn-up or does not read \"not started\": %s", name, b)
		}
	}
	if jt := visibleText(jdom); !strings.Contains(jt, "Programme overview") || !strings.Contains(jt, "At risk 1") {
		t.Errorf("the journey page has no programme overview at the top: %s", tail(jt, 1500))
	}

	if strings.Contains(detail, "super-secret-github-token") || strings.Contains(text, "super-secret-github-token") {
		t.Error("the page shows the secret's name")
	}

	if dir := os.Getenv("CXLOOP_SCREENSHOT_DIR"); dir != "" {
		for _, shot := range []struct{ name, size, path string }{
			{"phone.png", "390,2600", "/"},
			{"desktop.png", "1280,2200", "/"},
			{"journey-phone.png", "390,2400", "/journeys/culture/museum-visit"},
		} {
			out := filepath.Join(dir, shot.name)
			runBrowser(t, browser, "--window-size="+shot.size, "--screenshot="+out, srv.URL+shot.path)
			if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
				t.Errorf("screenshot %s: %v", out, err)
			}
		}
	}
}
