package tracker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConditionalStoreIsBoundedInBytes: the store never holds more than
// its bytes, the least recently used answer leaves first, and an answer
// replaced is counted once.
func TestConditionalStoreIsBoundedInBytes(t *testing.T) {
	const max = 64 << 10
	s := newETagStore(max, 8<<10)
	entry := func(n int) *cacheEntry {
		return &cacheEntry{etag: `"e"`, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(strings.Repeat("x", n))}
	}
	held := func(k string) bool { // without using it
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.entries[k]
		return ok
	}
	evicted := false
	for i := 0; i < 100 && !evicted; i++ {
		s.put(fmt.Sprint("k", i), entry(4<<10))
		if _, b := s.stats(); b > max {
			t.Fatalf("after %d answers the store holds %d bytes, want at most %d", i+1, b, max)
		}
		s.get("k0") // used at each step; k1 never
		switch {
		case !held("k0"):
			t.Fatalf("after %d answers the answer used at each step left (the one never used: held %v)", i+1, held("k1"))
		case i > 0 && !held("k1"):
			evicted = true
		}
	}
	if !evicted {
		t.Fatal("100 answers of 4 KiB each fit in a store of 64 KiB")
	}
	for i := 20; i < 100; i++ {
		s.put(fmt.Sprint("k", i), entry(4<<10))
	}
	n, b := s.stats()
	if n < 10 || b < max/2 {
		t.Errorf("a full store holds %d answers, %d bytes; want it used (over 10 answers, over half its bytes)", n, b)
	}
	if s.get("k99") == nil {
		t.Error("the newest answer left the store")
	}
	if s.get("k1") != nil {
		t.Error("an old answer no one used stayed")
	}

	s = newETagStore(max, 8<<10)
	s.put("k", entry(4<<10))
	_, once := s.stats()
	newer := entry(4 << 10)
	newer.etag = `"f"`
	s.put("k", newer)
	if n, b := s.stats(); n != 1 || b != once {
		t.Errorf("an answer put twice: %d entries, %d bytes; want 1, %d", n, b, once)
	}
	if e := s.get("k"); e == nil || e.etag != `"f"` {
		t.Errorf("after a newer answer the store holds the older one: %v; want the newer (ETag \"f\")", e != nil && e.etag == `"e"`)
	}
	if s.put("big", entry(max)); s.get("big") != nil {
		t.Error("an answer larger than an entry may be was kept")
	}
	s.drop("k")
	if n, b := s.stats(); n != 0 || b != 0 {
		t.Errorf("after drop: %d entries, %d bytes", n, b)
	}
}

// TestOversizedAnswerReachesItsCallerWholeButIsNotKept: an answer larger
// than an entry may be (a page of long comments) is read whole by its
// caller, is not kept, and the next request is not conditional on it.
func TestOversizedAnswerReachesItsCallerWholeButIsNotKept(t *testing.T) {
	// content is n bytes in which every place tells itself from the others.
	content := func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "%d,", i)
		}
		return b.String()[:n]
	}
	size := 3000
	var conditional []bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conditional = append(conditional, r.Header.Get("If-None-Match") != "")
		if r.Header.Get("If-None-Match") == fmt.Sprintf(`"%d"`, size) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, size))
		_, _ = io.WriteString(w, content(size))
	}))
	defer srv.Close()
	c := &etagCache{next: http.DefaultTransport, identity: "token:x", store: newETagStore(64<<10, 4<<10)}
	get := func() string {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/repos/o/r/issues/1/comments", nil)
		resp, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET answered %d, %v", resp.StatusCode, err)
		}
		return string(b)
	}

	if b := get(); b != content(size) {
		t.Fatalf("a small answer arrived with %d bytes, want %d as sent", len(b), size)
	}
	if b := get(); b != content(size) || !conditional[1] {
		t.Fatalf("the second GET of a kept answer: conditional %v, %d bytes", conditional[1], len(b))
	}
	if n, _ := c.store.stats(); n != 1 {
		t.Fatalf("the store holds %d answers, want 1", n)
	}

	size = 10000 // larger than an entry may be
	if b := get(); b != content(size) {
		t.Fatalf("an oversized answer arrived with %d bytes, want %d as sent (whole, in order)", len(b), size)
	}
	if n, b := c.store.stats(); n != 0 || b != 0 {
		t.Errorf("after an oversized answer the store holds %d answers, %d bytes; want none (the old one dropped, the new one not kept)", n, b)
	}
	if get(); conditional[len(conditional)-1] {
		t.Error("the GET after an oversized answer was conditional on it")
	}
}
