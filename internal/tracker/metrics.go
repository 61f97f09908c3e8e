package tracker

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	metricsOnce sync.Once

	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cxloop_github_requests_total",
		Help: "HTTP requests sent to the GitHub API, by method and status code (\"error\" when no answer arrived).",
	}, []string{"method", "code"})

	rateLimitRemaining = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cxloop_github_rate_limit_remaining",
		Help: "X-RateLimit-Remaining of the most recent GitHub API answer.",
	})

	writeBudgetRemaining = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cxloop_github_write_budget_remaining",
		Help: "Writes cxloop may still send now within its write budget, by budget (one per API host and token, named by a hash) and window (minute, hour).",
	}, []string{"budget", "window"})

	writeBudgetNextWrite = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cxloop_github_write_budget_next_write_seconds",
		Help: "Seconds until the write budget allows the next write (0: now), by budget.",
	}, []string{"budget"})
)

// recordBudget publishes what is left of a write budget; s.mu is held.
func recordBudget(s *limitState, now time.Time) {
	sum := sha256.Sum256([]byte(s.budgetKey))
	name := hex.EncodeToString(sum[:4])
	writeBudgetRemaining.WithLabelValues(name, "minute").Set(float64(s.perMinute.remaining(now)))
	writeBudgetRemaining.WithLabelValues(name, "hour").Set(float64(s.perHour.remaining(now)))
	next := max(s.perMinute.delay(now), s.perHour.delay(now)).Seconds()
	writeBudgetNextWrite.WithLabelValues(name).Set(next)
}

// registerMetrics registers the collectors on controller-runtime's registry
// exactly once. A collector already registered elsewhere is reused.
func registerMetrics() {
	metricsOnce.Do(func() {
		if err := metrics.Registry.Register(requestsTotal); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if c, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					requestsTotal = c
				}
			}
		}
		for _, c := range []prometheus.Collector{writeBudgetRemaining, writeBudgetNextWrite, conditionalCacheBytes, indexCollector{}} {
			_ = metrics.Registry.Register(c) // registered once per process; a second registry keeps its own
		}
		if err := metrics.Registry.Register(rateLimitRemaining); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if g, ok := are.ExistingCollector.(prometheus.Gauge); ok {
					rateLimitRemaining = g
				}
			}
		}
	})
}

// conditionalCacheBytes is what the process's store of conditional
// answers holds (etagAnswers).
var conditionalCacheBytes = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
	Name: "cxloop_github_conditional_cache_bytes",
	Help: "Approximate memory held by the answers GitHub requests are made conditional on (bounded at 8 MiB).",
}, func() float64 {
	_, b := etagAnswers.stats()
	return float64(b)
})

// indexCollector reports the repositories' shared indexes as they are
// when scraped: a repository tracked with two credentials has an index for
// each, and its series sum their bytes and show the most issues either
// holds; a repository no journey tracks any more has no series.
type indexCollector struct{}

var (
	indexIssuesDesc = prometheus.NewDesc("cxloop_github_issue_index_issues",
		"Issues carrying cxloop's label that the shared index of a repository holds (the most of its indexes, one per credentials).", []string{"repository"}, nil)
	indexBytesDesc = prometheus.NewDesc("cxloop_github_issue_index_bytes",
		"Approximate memory the shared issue indexes of a repository hold together.", []string{"repository"}, nil)
)

func (indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- indexIssuesDesc
	ch <- indexBytesDesc
}

func (indexCollector) Collect(ch chan<- prometheus.Metric) {
	type totals struct{ issues, bytes int }
	byRepo := map[string]totals{}
	indexesMu.Lock()
	for _, x := range indexes {
		x.mu.RLock()
		t := byRepo[x.owner]
		t.issues = max(t.issues, len(x.entries))
		t.bytes += x.bytes
		byRepo[x.owner] = t
		x.mu.RUnlock()
	}
	indexesMu.Unlock()
	for repo, t := range byRepo {
		ch <- prometheus.MustNewConstMetric(indexIssuesDesc, prometheus.GaugeValue, float64(t.issues), repo)
		ch <- prometheus.MustNewConstMetric(indexBytesDesc, prometheus.GaugeValue, float64(t.bytes), repo)
	}
}
