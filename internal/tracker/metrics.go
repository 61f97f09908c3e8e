package tracker

import (
	"errors"
	"sync"

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
)

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
