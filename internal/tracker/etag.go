package tracker

import (
	"bytes"
	"container/list"
	"io"
	"net/http"
	"sync"
)

// etagCache makes every GET conditional. A 304 answer is turned into the
// cached 200 answer carrying the fresh rate-limit headers of the 304.
//
// The answers live in one store for the whole process (etagAnswers),
// bounded in bytes: every journey of a repository asks the same URLs with
// the same credentials (the repository, its issues, the user cxloop acts
// as), and a store per journey held each answer once per journey. The key
// carries the credentials' identity, so one token's answers never serve
// another's request.
type etagCache struct {
	next     http.RoundTripper
	identity string
	store    *etagStore
}

func newETagCache(next http.RoundTripper, identity string) *etagCache {
	return &etagCache{next: next, identity: identity, store: etagAnswers}
}

func (c *etagCache) key(req *http.Request) string {
	return c.identity + " " + req.Header.Get("Accept") + " " + req.URL.String()
}

func (c *etagCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Context().Value(skipETagCache{}) != nil {
		return c.next.RoundTrip(req)
	}
	k := c.key(req)
	e := c.store.get(k)
	if e != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", e.etag)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified && e != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		h := e.header.Clone()
		for name, v := range resp.Header {
			h[name] = v
		}
		h.Del("Content-Length")
		return &http.Response{
			Status: "200 OK", StatusCode: http.StatusOK,
			Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
			Header: h, Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)),
			Request: resp.Request, TLS: resp.TLS,
		}, nil
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		c.store.drop(k) // nothing left to be conditional on
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		c.store.drop(k)
		return resp, nil
	}
	// Read no more than an entry may hold: a larger answer (a page of long
	// comments) goes to its caller whole, but is not kept.
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.store.maxEntry)+1))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if len(body) > c.store.maxEntry {
		c.store.drop(k)
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	c.store.put(k, &cacheEntry{etag: etag, header: resp.Header.Clone(), body: body})
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Bounds of the process's store of conditional answers. An issue's answer
// is a few KB (its body at most 64 KB on GitHub), a repository's about 6 KB;
// 8 MiB holds thousands of them. What falls out is asked again without
// If-None-Match, which costs a request against the rate limit, not a
// wrong answer.
const (
	etagStoreBytes = 8 << 20
	etagEntryBytes = 256 << 10
)

// etagAnswers is the process's store.
var etagAnswers = newETagStore(etagStoreBytes, etagEntryBytes)

type cacheEntry struct {
	etag   string
	header http.Header
	body   []byte
}

// etagStore holds answers by key, the least recently used leaving first
// when the store is full.
type etagStore struct {
	maxBytes, maxEntry int

	mu      sync.Mutex
	bytes   int
	entries map[string]*list.Element // of *etagItem
	lru     list.List                // front: most recently used
}

type etagItem struct {
	key   string
	entry *cacheEntry
	size  int
}

func newETagStore(maxBytes, maxEntry int) *etagStore {
	return &etagStore{maxBytes: maxBytes, maxEntry: maxEntry, entries: map[string]*list.Element{}}
}

// size is what an entry costs, about: its key, ETag, headers and body, and
// the bookkeeping around them.
func (e *cacheEntry) size(key string) int {
	n := 256 + len(key) + len(e.etag) + len(e.body)
	for name, vs := range e.header {
		n += len(name) + 16
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}

func (s *etagStore) get(k string) *cacheEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.entries[k]
	if !ok {
		return nil
	}
	s.lru.MoveToFront(el)
	return el.Value.(*etagItem).entry
}

func (s *etagStore) put(k string, e *cacheEntry) {
	size := e.size(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(k) // the newer answer takes its place
	if size > s.maxEntry+(32<<10) || size > s.maxBytes {
		return
	}
	for s.bytes+size > s.maxBytes && s.lru.Len() > 0 {
		s.dropLocked(s.lru.Back().Value.(*etagItem).key) // the least recently used
	}
	s.entries[k] = s.lru.PushFront(&etagItem{key: k, entry: e, size: size})
	s.bytes += size
}

// drop forgets the answer at k.
func (s *etagStore) drop(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(k)
}

func (s *etagStore) dropLocked(k string) {
	if el, ok := s.entries[k]; ok {
		s.bytes -= el.Value.(*etagItem).size
		s.lru.Remove(el)
		delete(s.entries, k)
	}
}

// stats is what the store holds: entries and bytes.
func (s *etagStore) stats() (entries, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries), s.bytes
}
