package statuspage

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// heapObjects is the heap's live and not yet swept objects, in bytes
// (runtime/metrics, read without stopping the world).
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// cacheLike hands out its objects as the manager's cache does for the page
// (client.UnsafeDisableDeepCopy): a new list of the same objects.
type cacheLike struct{ m *memSource }

func (c *cacheLike) Journeys(context.Context) ([]cxv1.CustomerJourney, error) {
	return slices.Clone(c.m.journeys), nil
}

func (c *cacheLike) Phases(context.Context) ([]cxv1.ImprovementPhase, error) {
	return slices.Clone(c.m.phases), nil
}

// BenchmarkConcurrentPageLoads: 32 readers at once each load the index and
// the JSON of 1,000 journeys of 140 touchpoints and 4 personas with 4 phases
// each (the size of make bench's journeys), over HTTP on loopback, as a
// reader allowed in every namespace (token mode). It reports the heap's
// growth at its peak during the loads over the heap before them (as Go runs
// by default, and with GOGC=10), the heap
// the views keep, and how many requests were turned away busy (503).
func BenchmarkConcurrentPageLoads(b *testing.B) {
	const journeys, readers = 1000, 32
	mem := sizedSource(journeys, 4, 7, 20, []string{"p0", "p1", "p2", "p3"})
	for i := range mem.journeys {
		mem.journeys[i].ResourceVersion = "1"
	}
	for i := range mem.phases {
		mem.phases[i].ResourceVersion = "1"
	}
	src := &cacheLike{mem}
	runtime.GC()
	empty := heapObjects()
	srv := httptest.NewServer(gated(src))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}
	var busy atomic.Int64
	load := func(path string) int64 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer lead")
		res, err := client.Do(req) // asks for gzip, as browsers do, and reads it unpacked
		if err != nil {
			b.Error(err)
			return 0
		}
		defer func() { _ = res.Body.Close() }()
		n, err := io.Copy(io.Discard, res.Body)
		if err != nil {
			b.Error(err)
		}
		switch res.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			busy.Add(1)
		default:
			b.Errorf("GET %s: %d", path, res.StatusCode)
		}
		return n
	}
	pageBytes, apiBytes := load("/"), load("/api/v1/journeys") // builds the views
	runtime.GC()
	views := heapObjects() - min(empty, heapObjects())

	// loads runs the 32 readers' loads and returns the heap's peak growth.
	loads := func() uint64 {
		runtime.GC()
		base := heapObjects()
		var peak atomic.Uint64
		peak.Store(base)
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				if h := heapObjects(); h > peak.Load() {
					peak.Store(h)
				}
				select {
				case <-stop:
					return
				default:
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				load("/")
				load("/api/v1/journeys")
			})
		}
		wg.Wait()
		close(stop)
		<-sampled
		return peak.Load() - base
	}
	var peakGrowth, peakLive uint64
	for b.Loop() {
		// As Go runs by default, the heap may grow to twice what is live
		// before a collection: the growth is mostly garbage not yet
		// collected. With GOGC=10 it is close to what the loads hold.
		peakGrowth = max(peakGrowth, loads())
		old := debug.SetGCPercent(10)
		peakLive = max(peakLive, loads())
		debug.SetGCPercent(old)
	}
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-heap-growth-GOGC10-MiB")
	b.ReportMetric(float64(peakGrowth)/(1<<20), "peak-heap-growth-MiB")
	b.ReportMetric(float64(views)/(1<<20), "views-MiB")
	b.ReportMetric(float64(pageBytes)/(1<<20), "page-MiB")
	b.ReportMetric(float64(apiBytes)/(1<<20), "json-MiB")
	b.ReportMetric(float64(busy.Load()), "busy-503")
}
