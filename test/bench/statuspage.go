package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// pageReaders is how many people load the status page at once.
const pageReaders = 32

// StatusPage is what 32 people loading the status page and its JSON at
// once cost the manager, in token mode, as a reader allowed in every
// namespace.
type StatusPage struct {
	Readers int `json:"readers"`
	// Loads of / and /api/v1/journeys; Busy of them answered 503.
	Loads   int     `json:"loads"`
	Busy    int     `json:"busy503"`
	Seconds float64 `json:"seconds"`
	// HeapInUseBeforeMiB is the manager's go_memstats_heap_inuse_bytes
	// before the loads (views built by one load), PeakHeapInUseMiB the
	// highest scraped during them.
	HeapInUseBeforeMiB float64 `json:"heapInUseBeforeMiB"`
	PeakHeapInUseMiB   float64 `json:"peakHeapInUseMiB"`
	HeapGrowthMiB      float64 `json:"heapGrowthMiB"`
	PageMiB            float64 `json:"pageMiB"`
	JSONMiB            float64 `json:"jsonMiB"`
}

// pageReaderToken creates a ServiceAccount allowed to list customerjourneys
// everywhere and returns a token of it.
func (b *bench) pageReaderToken(ctx context.Context) (string, error) {
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bench-journey-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"cx.cxloop.dev"}, Resources: []string{"customerjourneys", "improvementphases"}, Verbs: []string{"get", "list", "watch"}}}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bench-page-reader"}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-journey-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}}}
	if err := b.c.Create(ctx, cr); err != nil {
		return "", err
	}
	if err := b.c.Create(ctx, sa); err != nil {
		return "", err
	}
	if err := b.c.Create(ctx, crb); err != nil {
		return "", err
	}
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}
	if err := b.c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", err
	}
	return tr.Status.Token, nil
}

// pageLoads has 32 readers load the index and the JSON at once and scrapes
// the manager's heap meanwhile.
func (b *bench) pageLoads(ctx context.Context, mp *managerProcess, pageURL string) (StatusPage, error) {
	sp := StatusPage{Readers: pageReaders}
	token, err := b.pageReaderToken(ctx)
	if err != nil {
		return sp, fmt.Errorf("a token for the status page: %w", err)
	}
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: pageReaders}}
	var busy atomic.Int64
	load := func(path string) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req) // asks for gzip, as a browser does
		if err != nil {
			return 0, err
		}
		defer func() { _ = res.Body.Close() }()
		n, err := io.Copy(io.Discard, res.Body)
		switch {
		case err != nil:
			return n, err
		case res.StatusCode == http.StatusServiceUnavailable:
			busy.Add(1)
		case res.StatusCode != http.StatusOK:
			return n, fmt.Errorf("GET %s: %s", path, res.Status)
		}
		return n, nil
	}
	// One load first: it builds the views every later load shares.
	page, err := load("/")
	if err != nil {
		return sp, err
	}
	api, err := load("/api/v1/journeys")
	if err != nil {
		return sp, err
	}
	sp.PageMiB, sp.JSONMiB = float64(page)/(1<<20), float64(api)/(1<<20)
	heap := func() (float64, error) {
		mfs, err := mp.metrics(ctx)
		if err != nil {
			return 0, err
		}
		return counterValue(mfs, "go_memstats_heap_inuse_bytes") / (1 << 20), nil
	}
	if sp.HeapInUseBeforeMiB, err = heap(); err != nil {
		return sp, err
	}
	var peak atomic.Uint64 // MiB × 1000
	peak.Store(uint64(sp.HeapInUseBeforeMiB * 1000))
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			if h, err := heap(); err == nil && uint64(h*1000) > peak.Load() {
				peak.Store(uint64(h * 1000))
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*pageReaders)
	for range pageReaders {
		wg.Go(func() {
			for _, path := range []string{"/", "/api/v1/journeys"} {
				if _, err := load(path); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	sp.Seconds = time.Since(start).Seconds()
	close(stop)
	sampler.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return sp, err
	}
	sp.Loads, sp.Busy = 2*pageReaders, int(busy.Load())
	sp.PeakHeapInUseMiB = float64(peak.Load()) / 1000
	sp.HeapGrowthMiB = sp.PeakHeapInUseMiB - sp.HeapInUseBeforeMiB
	return sp, nil
}
