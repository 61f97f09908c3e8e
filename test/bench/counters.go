package main

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// ghCounter counts the requests the local GitHub answers, by method and
// status, in front of its handler: exact, and independent of cxloop's own
// metrics.
type ghCounter struct {
	next http.Handler

	mu      sync.Mutex
	byCode  map[string]int // "GET 304"
	creates []time.Time    // issues created (POST …/issues answered 201)
	// listings counts the pages of a repository's issue listings (GET
	// …/issues), listingsNotModified those answered 304.
	listings, listingsNotModified int
}

type ghCounts struct {
	ByCode                        map[string]int
	Creates                       int
	Listings, ListingsNotModified int
}

// issuesPath is a repository's issues: POST creates one, GET lists them.
var issuesPath = regexp.MustCompile(`^/repos/[^/]+/[^/]+/issues$`)

func (c *ghCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(sw, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byCode[r.Method+" "+strconv.Itoa(sw.status)]++
	if r.Method == http.MethodPost && sw.status == http.StatusCreated && issuesPath.MatchString(r.URL.Path) {
		c.creates = append(c.creates, time.Now())
	}
	if r.Method == http.MethodGet && issuesPath.MatchString(r.URL.Path) {
		c.listings++
		if sw.status == http.StatusNotModified {
			c.listingsNotModified++
		}
	}
}

func (c *ghCounter) snapshot() ghCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := ghCounts{ByCode: map[string]int{}, Creates: len(c.creates), Listings: c.listings, ListingsNotModified: c.listingsNotModified}
	for k, v := range c.byCode {
		out.ByCode[k] = v
	}
	return out
}

func (c *ghCounter) createTimes() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.creates...)
}

// diff is what was counted between two snapshots.
func (a ghCounts) diff(b ghCounts) ghCounts {
	out := ghCounts{ByCode: map[string]int{}, Creates: b.Creates - a.Creates,
		Listings: b.Listings - a.Listings, ListingsNotModified: b.ListingsNotModified - a.ListingsNotModified}
	for k, v := range b.ByCode {
		if d := v - a.ByCode[k]; d > 0 {
			out.ByCode[k] = d
		}
	}
	return out
}

func (a ghCounts) total() int {
	n := 0
	for _, v := range a.ByCode {
		n += v
	}
	return n
}

// where sums the counts whose method and status match.
func (a ghCounts) where(match func(method string, status int) bool) int {
	n := 0
	for k, v := range a.ByCode {
		m, s, _ := strings.Cut(k, " ")
		code, _ := strconv.Atoi(s)
		if match(m, code) {
			n += v
		}
	}
	return n
}

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut || method == http.MethodDelete
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// apiWrites reads the API server's own count of write requests
// (apiserver_request_total) by resource: exact, whoever sent them.
func apiWrites(ctx context.Context, rc rest.Interface) (map[string]int, error) {
	raw, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labels := promLabels(line)
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY", "CREATE", "UPDATE":
		default:
			continue
		}
		res := labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			res += "/" + sub
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			continue
		}
		out[res+" "+labels["verb"]] += int(v)
	}
	return out, sc.Err()
}

func promLabels(line string) map[string]string {
	out := map[string]string{}
	body := line[strings.IndexByte(line, '{')+1 : strings.LastIndexByte(line, '}')]
	for _, m := range regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func diffMap(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range b {
		if d := v - a[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// sumWhere sums the write counts of resources (with or without a subresource)
// whose name starts with one of prefixes, leaving out the verbs given.
func sumWhere(m map[string]int, prefixes []string, skipVerbs ...string) int {
	n := 0
	for k, v := range m {
		res, verb, _ := strings.Cut(k, " ")
		skip := false
		for _, s := range skipVerbs {
			skip = skip || verb == s
		}
		if skip {
			continue
		}
		for _, p := range prefixes {
			if res == p || strings.HasPrefix(res, p+"/") {
				n += v
				break
			}
		}
	}
	return n
}

// reconcileCounts reads the reconcile counters of the controllers that
// run in the benchmark's process (the baseline's).
func reconcileCounts() (total map[string]int, slowest map[string]float64) {
	gathered, err := metrics.Registry.Gather()
	if err != nil {
		return map[string]int{}, map[string]float64{}
	}
	mfs := map[string]*dto.MetricFamily{}
	for _, mf := range gathered {
		mfs[mf.GetName()] = mf
	}
	return reconcileFigures(mfs)
}

// reconcileFigures reads controller-runtime's reconcile counters and the
// longest reconcile seen, by controller.
func reconcileFigures(mfs map[string]*dto.MetricFamily) (total map[string]int, slowest map[string]float64) {
	total, slowest = map[string]int{}, map[string]float64{}
	if mf := mfs["controller_runtime_reconcile_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			total[controllerOf(m)] += int(m.GetCounter().GetValue())
		}
	}
	if mf := mfs["controller_runtime_reconcile_time_seconds"]; mf != nil {
		for _, m := range mf.GetMetric() {
			name := controllerOf(m)
			// The upper bound of the highest bucket that holds a sample.
			h := m.GetHistogram()
			prev := uint64(0)
			for _, b := range h.GetBucket() {
				if math.IsInf(b.GetUpperBound(), 1) {
					break // the text format lists +Inf; the sample count covers it
				}
				if b.GetCumulativeCount() > prev {
					slowest[name] = max(slowest[name], b.GetUpperBound())
				}
				prev = b.GetCumulativeCount()
			}
			if h.GetSampleCount() > prev {
				slowest[name] = max(slowest[name], 61) // above the last bucket
			}
		}
	}
	return total, slowest
}

func controllerOf(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "controller" {
			return l.GetValue()
		}
	}
	return ""
}
