// Package ghwebhooktest attacks a GitHub webhook endpoint the way issue 17's
// security review did, while GitHub goes on delivering, and measures what
// the attack costs: for the abuse tests of ghwebhook and of the manager.
package ghwebhooktest

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Sign returns the X-Hub-Signature-256 GitHub sends with body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// bogus is a well-formed signature that matches nothing.
var bogus = "sha256=" + strings.Repeat("ab", sha256.Size)

// Attack describes the junk and the valid deliveries sent at once.
type Attack struct {
	// URL is the webhook endpoint.
	URL string
	// Secret signs the valid deliveries; Valid is their `issues` payload.
	Secret, Valid []byte
	// For is how long the junk keeps coming (default 8s): longer than a
	// slow sender is allowed to take, so that each reconnects.
	For time.Duration
	// ValidEvery is the pause between valid deliveries (default 100ms).
	ValidEvery time.Duration
}

// Report is what the attack cost and what GitHub saw meanwhile.
type Report struct {
	// PeakHeapGrowth is the peak of the heap's objects (live and not yet
	// collected) above what it was before the attack.
	PeakHeapGrowth uint64
	// Valid are the answers to the valid deliveries, in order, and how long each took.
	Valid []Answer
	// Junk counts the answers by kind of junk and status (0: the
	// connection was cut).
	Junk map[string]map[int]int
}

// Answer is one response.
type Answer struct {
	Code    int
	Latency time.Duration
}

// MaxValidLatency is the longest a valid delivery took.
func (r Report) MaxValidLatency() time.Duration {
	var m time.Duration
	for _, a := range r.Valid {
		m = max(m, a.Latency)
	}
	return m
}

// ValidLatencyPercentile is the p-th percentile (0–100) of the valid deliveries' latency.
func (r Report) ValidLatencyPercentile(p int) time.Duration {
	if len(r.Valid) == 0 {
		return 0
	}
	l := make([]time.Duration, len(r.Valid))
	for i, a := range r.Valid {
		l[i] = a.Latency
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, len(l)*p/100)]
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "peak heap growth %.1f MiB; %d valid deliveries, latency p50 %s, p99 %s, max %s; junk answered:",
		float64(r.PeakHeapGrowth)/(1<<20), len(r.Valid), r.ValidLatencyPercentile(50).Round(time.Millisecond),
		r.ValidLatencyPercentile(99).Round(time.Millisecond), r.MaxValidLatency().Round(time.Millisecond))
	kinds := make([]string, 0, len(r.Junk))
	for k := range r.Junk {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, " %s %v;", k, r.Junk[k])
	}
	return b.String()
}

// Run sends, at once and over and over for a.For: a 400 MB body (once
// with its Content-Length, once chunked), 8 × 20 MB bogus-signed JSON
// bodies and 8 × 20 MB form-encoded ones (half with Content-Length, half
// chunked), and 8 slow senders that trickle a byte every 100 ms; and
// meanwhile a valid, signed delivery every a.ValidEvery. The bodies come
// from generators that hold no more than a read buffer.
func (a Attack) Run(ctx context.Context) Report {
	if a.For == 0 {
		a.For = 8 * time.Second
	}
	if a.ValidEvery == 0 {
		a.ValidEvery = 100 * time.Millisecond
	}
	heap := startHeapSampler()
	ctx, cancel := context.WithTimeout(ctx, a.For)
	defer cancel()

	var mu sync.Mutex
	rep := Report{Junk: map[string]map[int]int{}, Valid: make([]Answer, 0, int(a.For/a.ValidEvery)+16)}
	count := func(kind string, code int) {
		mu.Lock()
		defer mu.Unlock()
		if rep.Junk[kind] == nil {
			rep.Junk[kind] = map[int]int{}
		}
		rep.Junk[kind][code]++
	}
	junkClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	repeat := func(kind string, send func(context.Context) int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				count(kind, send(ctx))
			}
		}()
	}
	junk := func(contentType string, size int64, chunked bool) func(context.Context) int {
		return func(ctx context.Context) int {
			body := &pattern{prefix: `{"action":"closed","issue":{"body":"`, left: size}
			if contentType != "application/json" {
				body.prefix = "payload=%7B%22action%22%3A%22closed%22%2C%22issue%22%3A%7B%22body%22%3A%22"
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, body)
			req.ContentLength = size
			if chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("junk-%d", junkIDs.Add(1)))
			req.Header.Set("X-Hub-Signature-256", bogus)
			return do(junkClient, req)
		}
	}
	const huge, big = 400 << 20, 20 << 20
	repeat("400MB with length", junk("application/json", huge, false))
	repeat("400MB chunked", junk("application/json", huge, true))
	for i := range 8 {
		repeat(fmt.Sprintf("20MB JSON chunked=%t", i%2 == 1), junk("application/json", big, i%2 == 1))
		repeat(fmt.Sprintf("20MB form chunked=%t", i%2 == 1), junk("application/x-www-form-urlencoded", big, i%2 == 1))
		repeat("slow sender", func(ctx context.Context) int { return a.slowSender(ctx) })
	}

	// GitHub, meanwhile.
	validClient := &http.Client{Timeout: 10 * time.Second} // GitHub's own
	tick := time.NewTicker(a.ValidEvery)
	defer tick.Stop()
	var vw sync.WaitGroup
loop:
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		rep.Valid = append(rep.Valid, Answer{})
		vw.Add(1)
		go func(slot *Answer) {
			defer vw.Done()
			req, _ := http.NewRequest(http.MethodPost, a.URL, strings.NewReader(string(a.Valid)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("valid-%d-%d", time.Now().UnixNano(), i))
			req.Header.Set("X-Hub-Signature-256", Sign(a.Secret, a.Valid))
			start := time.Now()
			code := do(validClient, req)
			mu.Lock()
			*slot = Answer{Code: code, Latency: time.Since(start)}
			mu.Unlock()
		}(&rep.Valid[len(rep.Valid)-1])
		if len(rep.Valid) == cap(rep.Valid) {
			// The next append moves the slice: wait for the answers that point into it.
			vw.Wait()
		}
	}
	vw.Wait()
	wg.Wait()
	rep.PeakHeapGrowth = heap.stop()
	return rep
}

var junkIDs atomic.Int64

func do(c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	_ = resp.Body.Close()
	return resp.StatusCode
}

// slowSender declares the largest body the endpoint takes and sends it a
// byte every 100 ms, over a connection of its own.
func (a Attack) slowSender(ctx context.Context) int {
	u, _ := url.Parse(a.URL)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		time.Sleep(10 * time.Millisecond)
		return 0
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-GitHub-Event: issues\r\nX-GitHub-Delivery: slow-%d\r\nX-Hub-Signature-256: %s\r\n\r\n",
		u.RequestURI(), u.Host, 1<<20, junkIDs.Add(1), bogus)
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		_ = resp.Body.Close()
		answered <- resp.StatusCode
	}()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case code := <-answered:
			return code
		case <-ctx.Done():
			_ = conn.Close()
			return <-answered
		case <-t.C:
			if _, err := conn.Write([]byte{'a'}); err != nil {
				return <-answered
			}
		}
	}
}

// pattern is a body of left bytes: prefix, then 'a's. It allocates nothing.
type pattern struct {
	prefix string
	left   int64
	off    int
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range n {
		if p.off < len(p.prefix) {
			b[i] = p.prefix[p.off]
			p.off++
		} else {
			b[i] = 'a'
		}
	}
	p.left -= int64(n)
	return n, nil
}

// heapSampler follows the peak of the heap's objects. While it runs the
// collector is paced tightly (GOGC 10), so that what it measures is what
// the handler holds, not how much garbage the pacer lets a test process
// of any size pile up before it collects (at GOGC 100 that is as much as
// everything else the process keeps alive).
type heapSampler struct {
	gcPercent int
	base      uint64
	peak      atomic.Uint64
	done      chan struct{}
	wg        sync.WaitGroup
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func readHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	gcPercent := debug.SetGCPercent(10)
	runtime.GC()
	s := []metrics.Sample{{Name: heapObjects}}
	h := &heapSampler{gcPercent: gcPercent, base: readHeap(s), done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := readHeap(s); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// stop returns the peak growth over the baseline.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	debug.SetGCPercent(h.gcPercent)
	if p := h.peak.Load(); p > h.base {
		return p - h.base
	}
	return 0
}

// Check holds an attack's report to the figures the webhook must meet
// (issue 17): peak heap growth under 32 MiB, every valid delivery accepted
// within 2 s, no junk accepted.
func (rep Report) Check(t testing.TB) {
	t.Helper()
	if rep.PeakHeapGrowth >= 32<<20 {
		t.Errorf("peak heap growth %.1f MiB, want < 32 MiB", float64(rep.PeakHeapGrowth)/(1<<20))
	}
	if len(rep.Valid) < 20 {
		t.Errorf("only %d valid deliveries were sent", len(rep.Valid))
	}
	for i, a := range rep.Valid {
		if a.Code != http.StatusAccepted || a.Latency > 2*time.Second {
			t.Errorf("valid delivery %d answered %d after %s, want 202 within 2s", i, a.Code, a.Latency)
		}
	}
	for kind, codes := range rep.Junk {
		for code, n := range codes {
			if code >= 200 && code < 300 {
				t.Errorf("%s: %d answered %d", kind, n, code)
			}
		}
	}
}
