package statuspage

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/pageauth"
)

// fakeGate knows readers by their bearer token: each token sees the listed
// namespaces, "*" every one. The real gate is tested against envtest's
// TokenReview and SubjectAccessReview in package controllers.
type fakeGate map[string][]string

func (g fakeGate) Authenticate(r *http.Request) (pageauth.Identity, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, known := g[tok]; !ok || !known {
		return pageauth.Identity{}, &pageauth.UnauthenticatedError{Challenge: pageauth.BearerChallenge, Reason: "no valid token"}
	}
	return pageauth.Identity{User: tok}, nil
}

func (g fakeGate) Authorize(_ context.Context, id pageauth.Identity, _ []string) (pageauth.Scope, error) {
	ns := g[id.User]
	if len(ns) == 1 && ns[0] == "*" {
		return pageauth.AllNamespaces(), nil
	}
	return pageauth.Namespaces(ns...), nil
}

func getAs(t *testing.T, h http.Handler, token, path string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

var readers = fakeGate{"culture-reader": {"culture"}, "lead": {"*"}, "nobody": nil}

func gated(src Source) http.Handler {
	return New(src, Options{Now: func() time.Time { return fixedNow }, Gate: readers})
}

func TestAnonymousGets401(t *testing.T) {
	h := gated(fixtures())
	for _, path := range []string{"/", "/journeys/culture/museum-visit", "/api/v1/journeys", "/api/v1/journeys/culture/museum-visit"} {
		for _, token := range []string{"", "made-up"} {
			res, body := getAs(t, h, token, path)
			if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s with token %q: %d, WWW-Authenticate %q; want 401 Bearer", path, token, res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(body, "museum") {
				t.Errorf("GET %s unauthenticated shows the journey", path)
			}
		}
	}
	if res, _ := getAs(t, h, "", "/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", res.StatusCode)
	}
}

func TestReaderSeesOnlyTheirNamespaces(t *testing.T) {
	h := gated(fixtures())
	res, index := getAs(t, h, "culture-reader", "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	if !strings.Contains(index, `data-journey="culture/museum-visit"`) || strings.Contains(index, "harbour-ferry") || strings.Contains(index, "transport") {
		t.Error("the culture reader's index is not culture's journeys only")
	}
	// Totals and programme over what the reader sees: the museum alone.
	tiles := visibleText(between(t, index, `class="tiles"`, `</section>`))
	if !strings.Contains(tiles, "Journeys 1") || !strings.Contains(tiles, "Mean health 62") || !strings.Contains(tiles, "Open work items 2") {
		t.Errorf("tiles: %s", tiles)
	}
	overview := visibleText(between(t, index, `data-programme`, `</section>`))
	if !strings.Contains(overview, "At risk 1") || !strings.Contains(overview, "Late 0") {
		t.Errorf("programme overview counts phases the reader does not see: %s", overview)
	}

	_, api := getAs(t, h, "culture-reader", "/api/v1/journeys")
	var doc apiDoc
	if err := json.Unmarshal([]byte(api), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, api)
	}
	if len(doc.Journeys) != 1 || doc.Journeys[0].Name != "museum-visit" || doc.Programme.Late != 0 || doc.Programme.AtRisk != 1 || len(doc.Programme.NeedAttention) != 1 {
		t.Errorf("the culture reader's JSON: %d journeys, programme %+v", len(doc.Journeys), doc.Programme)
	}

	// A journey the reader may not see reads as one that does not exist.
	resHidden, hidden := getAs(t, h, "culture-reader", "/journeys/transport/harbour-ferry")
	resMissing, missing := getAs(t, h, "culture-reader", "/journeys/transport/no-such-journey")
	if resHidden.StatusCode != http.StatusNotFound || resMissing.StatusCode != http.StatusNotFound ||
		strings.ReplaceAll(hidden, "harbour-ferry", "X") != strings.ReplaceAll(missing, "no-such-journey", "X") {
		t.Errorf("a hidden journey (%d) answers otherwise than a missing one (%d)", resHidden.StatusCode, resMissing.StatusCode)
	}
	resHidden, hidden = getAs(t, h, "culture-reader", "/api/v1/journeys/transport/harbour-ferry")
	resMissing, missing = getAs(t, h, "culture-reader", "/api/v1/journeys/transport/no-such-journey")
	if resHidden.StatusCode != http.StatusNotFound || hidden != missing {
		t.Errorf("the JSON of a hidden journey: %d %q, of a missing one: %d %q", resHidden.StatusCode, hidden, resMissing.StatusCode, missing)
	}

	// Everything for one allowed cluster-wide; nothing, and no error, for one allowed nowhere.
	if _, body := getAs(t, h, "lead", "/"); !strings.Contains(body, "harbour-ferry") || !strings.Contains(body, "museum-visit") {
		t.Error("the lead does not see every namespace")
	}
	if res, body := getAs(t, h, "nobody", "/"); res.StatusCode != http.StatusOK || !strings.Contains(body, "No CustomerJourney yet.") {
		t.Errorf("a reader allowed nowhere: %d", res.StatusCode)
	}
}

func TestIndexLinksItsJSON(t *testing.T) {
	_, body := get(t, newHandler(fixtures()), http.MethodGet, "/")
	if !strings.Contains(body, `<a href="api/v1/journeys" type="application/json" data-api>`) {
		t.Error("the index does not link its JSON view")
	}
	_, body = get(t, newHandler(fixtures()), http.MethodGet, "/journeys/culture/museum-visit")
	if !strings.Contains(body, `<a href="../../api/v1/journeys/culture/museum-visit" type="application/json" data-api>`) {
		t.Error("the journey page does not link its JSON view")
	}
}

// blockingSource holds every caller until release is closed.
type blockingSource struct {
	Source
	entered chan struct{}
	release chan struct{}
}

func (b *blockingSource) Journeys(ctx context.Context) ([]cxv1.CustomerJourney, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Source.Journeys(ctx)
}

func TestBusyAnswers503(t *testing.T) {
	src := &blockingSource{Source: fixtures(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := New(src, Options{Now: func() time.Time { return fixedNow }, MaxConcurrent: 1, MaxWaiting: -1})
	var wg sync.WaitGroup
	wg.Add(1)
	var first int
	go func() {
		defer wg.Done()
		res, _ := get(t, h, http.MethodGet, "/")
		first = res.StatusCode
	}()
	<-src.entered // the first request holds the only slot
	res, body := get(t, h, http.MethodGet, "/api/v1/journeys")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || strings.Contains(body, "museum") {
		t.Errorf("a request beyond the bound: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res, _ := get(t, h, http.MethodGet, "/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("/healthz is bounded too: %d", res.StatusCode)
	}
	close(src.release)
	wg.Wait()
	if first != http.StatusOK {
		t.Errorf("the request holding the slot: %d", first)
	}
	if res, _ := get(t, h, http.MethodGet, "/"); res.StatusCode != http.StatusOK {
		t.Errorf("after the slot was freed: %d", res.StatusCode)
	}
}

// TestNoSecretNameFromConditions: the tracker names the credentials Secret
// in its conditions, and other conditions carry errors as they came; the
// page and the JSON show the reason instead.
func TestNoSecretNameFromConditions(t *testing.T) {
	src := fixtures()
	var j *cxv1.CustomerJourney
	for i := range src.journeys {
		if src.journeys[i].Name == "museum-visit" {
			j = &src.journeys[i]
		}
	}
	const secretName = "museum-github-credentials"
	// The messages as controllers/trackers.go and tracker_conditions.go write them.
	meta.SetStatusCondition(&j.Status.Conditions, metav1.Condition{Type: cxv1.ConditionReady, Status: metav1.ConditionFalse, Reason: "SecretNotFound",
		Message: `Secret "` + secretName + `" named in spec.tracker.github.secretRef does not exist in namespace culture`})
	meta.SetStatusCondition(&j.Status.Conditions, metav1.Condition{Type: "TrackerReady", Status: metav1.ConditionFalse, Reason: "InvalidCredentials",
		Message: "spec.tracker.github.secretRef: secret culture/" + secretName + ` has no key "token"`})
	meta.SetStatusCondition(&j.Status.Conditions, metav1.Condition{Type: "MeasuresReady", Status: metav1.ConditionFalse, Reason: "PrometheusUnavailable",
		Message: `Post "http://10.0.3.7:9090/api/v1/query": dial tcp 10.0.3.7:9090: connect: connection refused`})
	h := newHandler(src)
	for _, path := range []string{"/", "/journeys/culture/museum-visit", "/api/v1/journeys", "/api/v1/journeys/culture/museum-visit"} {
		res, body := get(t, h, http.MethodGet, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		for _, leak := range []string{secretName, "secretRef", "10.0.3.7", "dial tcp", "connection refused"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s shows %q", path, leak)
			}
		}
	}
	_, index := get(t, h, http.MethodGet, "/")
	card := visibleText(between(t, index, `id="journey_culture_museum-visit"`, `</article>`))
	if !strings.Contains(card, "Not ready : SecretNotFound: "+GenericMessage) {
		t.Errorf("the card does not say why it is not ready: %s", card)
	}
	_, detail := get(t, h, http.MethodGet, "/journeys/culture/museum-visit")
	conds := visibleText(between(t, detail, "<thead><tr><th>Type</th><th>Status</th>", "</table>"))
	for _, want := range []string{"TrackerReady False InvalidCredentials InvalidCredentials: " + GenericMessage, "MeasuresReady False PrometheusUnavailable PrometheusUnavailable: " + GenericMessage} {
		if !strings.Contains(conds, want) {
			t.Errorf("the conditions table lacks %q", want)
		}
	}
}

func TestPageText(t *testing.T) {
	for _, c := range []struct{ reason, msg, want string }{
		{"Reconciled", "Map scored; 3 quick wins open", "Map scored; 3 quick wins open"},
		{"ReviewOpen", "Review #7 is still open", "Review #7 is still open"},
		{"Reconciled", "", "Reconciled"},
		{"SecretNotFound", `Secret "x" named in spec.tracker.github.secretRef does not exist`, "SecretNotFound: " + GenericMessage},
		{"GitHubUnavailable", `GET https://api.github.com/repos/a/b: 502 Bad Gateway`, "GitHubUnavailable: " + GenericMessage},
		{"", "no data at 2026-11-23T09:00:00Z", "no data at 2026-11-23T09:00:00Z"},
		{"", "read tcp 192.168.1.1:4431: i/o timeout", GenericMessage},
	} {
		if got := pageText(c.reason, c.msg); got != c.want {
			t.Errorf("pageText(%q, %q) = %q, want %q", c.reason, c.msg, got, c.want)
		}
	}
}

// TestViewsBuiltOnChange: a request reuses the views of the journeys that
// did not change, and builds again the one that did.
func TestViewsBuiltOnChange(t *testing.T) {
	src := bigSource(20, 4)
	for i := range src.journeys {
		src.journeys[i].ResourceVersion = "1"
	}
	for i := range src.phases {
		src.phases[i].ResourceVersion = "1"
	}
	h := New(src, Options{Now: func() time.Time { return fixedNow }}).(*handler)
	get(t, h, http.MethodGet, "/")
	before := map[string]*entry{}
	for k, e := range h.views.byKey {
		before[k] = e
	}
	if len(before) != 20 {
		t.Fatalf("%d views", len(before))
	}
	src.mu.Lock()
	src.phases[0].ResourceVersion = "2" // a phase of team-00/journey-000
	src.mu.Unlock()
	_, body := get(t, h, http.MethodGet, "/api/v1/journeys")
	if !strings.Contains(body, "journey-019") {
		t.Fatal("the JSON lacks a journey")
	}
	for k, e := range h.views.byKey {
		changed := k == "team-00/journey-000"
		if (before[k] != e) != changed {
			t.Errorf("view of %s rebuilt: %v, want %v", k, before[k] != e, changed)
		}
	}
}

// TestAPIStreamedAsMarshalIndent: the JSON, written a journey at a time,
// reads as json.MarshalIndent would write the whole document.
func TestAPIStreamedAsMarshalIndent(t *testing.T) {
	for _, src := range []*memSource{fixtures(), {}} {
		_, body := get(t, newHandler(src), http.MethodGet, "/api/v1/journeys")
		var doc apiDoc
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		want, _ := json.MarshalIndent(doc, "", "  ")
		if string(want)+"\n" != body {
			t.Errorf("streamed JSON differs from MarshalIndent's:\n%s\nwant\n%s", body, want)
		}
	}
}

// TestConcurrentReaders: readers of different scopes at once, while
// journeys change, each get their own page (run with -race).
func TestConcurrentReaders(t *testing.T) {
	src := bigSource(30, 4)
	for i := range src.journeys {
		src.journeys[i].ResourceVersion = "1"
	}
	for i := range src.phases {
		src.phases[i].ResourceVersion = "1"
	}
	h := New(src, Options{Now: func() time.Time { return fixedNow }, Gate: fakeGate{"team-03": {"team-03"}, "lead": {"*"}}, MaxConcurrent: 3})
	stop := make(chan struct{})
	var changes sync.WaitGroup
	changes.Go(func() {
		for v := 2; ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			src.mu.Lock()
			src.journeys[v%30].ResourceVersion = strings.Repeat("x", v%7+1)
			src.mu.Unlock()
		}
	})
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			token, want := "lead", 30
			if i%2 == 1 {
				token, want = "team-03", 3
			}
			for range 4 {
				res, body := getAs(t, h, token, "/api/v1/journeys")
				var doc apiDoc
				if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || len(doc.Journeys) != want {
					t.Errorf("%s: %d, %d journeys, want %d", token, res.StatusCode, len(doc.Journeys), want)
				}
				if res, body := getAs(t, h, token, "/"); res.StatusCode != http.StatusOK || strings.Count(body, `<article class="card"`) != want {
					t.Errorf("%s: index %d with %d cards, want %d", token, res.StatusCode, strings.Count(body, `<article class="card"`), want)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	changes.Wait()
}
