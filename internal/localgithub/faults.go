package localgithub

import (
	"net/http"
	"path"
	"strings"
	"time"
)

// FaultKind is a kind of injected failure.
type FaultKind int

const (
	// DropResponseAfterCommit applies the request's change, then closes the
	// connection without answering, as when a response is lost in transit.
	// It needs an HTTP/1 connection; elsewhere the handler aborts with
	// http.ErrAbortHandler.
	DropResponseAfterCommit FaultKind = iota + 1
	// ServerError answers Status (default 502) without applying anything.
	ServerError
	// Latency waits Delay, then serves the request normally.
	Latency
	// SecondaryLimit answers Status (403 by default, or 429) with
	// Retry-After and GitHub's secondary-rate-limit message, applying
	// nothing.
	SecondaryLimit
	// PrimaryLimit exhausts the caller's primary budget: this and every
	// request until the window resets are answered 403 with
	// X-RateLimit-Remaining: 0.
	PrimaryLimit
)

// String returns the kind's name.
func (k FaultKind) String() string {
	switch k {
	case DropResponseAfterCommit:
		return "DropResponseAfterCommit"
	case ServerError:
		return "ServerError"
	case Latency:
		return "Latency"
	case SecondaryLimit:
		return "SecondaryLimit"
	case PrimaryLimit:
		return "PrimaryLimit"
	case 0:
		return "None"
	}
	return "FaultKind(?)"
}

// Fault is a failure to inject into matching requests.
type Fault struct {
	// Method matches the request method, ignoring case; empty matches all.
	Method string
	// Path matches the URL path (without query) as a prefix or as a
	// path.Match pattern, such as "/repos/*/*/issues"; empty matches all.
	Path string
	Kind FaultKind
	// Status is the status code for ServerError and SecondaryLimit.
	Status int
	// Delay is the wait for Latency.
	Delay time.Duration
	// RetryAfter is the Retry-After for SecondaryLimit (default one minute,
	// rounded up to whole seconds).
	RetryAfter time.Duration
	// Times is how many matching requests the fault applies to: 0 means
	// once, a negative number means every matching request until
	// ClearFaults.
	Times int
	// Every applies the fault to every Every-th matching request only (the
	// Every-th, the 2×Every-th, …); 0 or 1 means every one. Times counts
	// the requests it applied to.
	Every int
}

type activeFault struct {
	Fault
	left    int // < 0: unlimited
	matched int // matching requests seen, for Every
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	if f.Path == "" || strings.HasPrefix(r.URL.Path, f.Path) {
		return true
	}
	ok, _ := path.Match(f.Path, r.URL.Path)
	return ok
}

// Inject adds a fault. Faults are tried in the order they were injected;
// the first that matches a request applies to it.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &activeFault{Fault: f, left: left})
}

// ClearFaults removes all injected faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault applying to the request, using it up.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(r) {
			continue
		}
		f.matched++
		if f.Every > 1 && f.matched%f.Every != 0 {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		applied := f.Fault
		return &applied
	}
	return nil
}

// noteWait remembers that a caller was told to send nothing before until
// (Retry-After, or a primary limit's reset).
func (s *Server) noteWait(key string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waitUntil == nil {
		s.waitUntil = map[string]time.Time{}
	}
	if until.After(s.waitUntil[key]) {
		s.waitUntil[key] = until
	}
}

// checkWait counts a request that arrives while its caller was told to wait.
func (s *Server) checkWait(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.waitUntil[key]) {
		s.whileLimited++
	}
}

// RequestsWhileLimited is how many requests arrived from callers that had
// been told to wait (by Retry-After or an exhausted primary limit) before
// that wait was over. A well-behaved client keeps it at zero.
func (s *Server) RequestsWhileLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.whileLimited
}
