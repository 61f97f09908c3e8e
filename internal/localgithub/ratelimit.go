package localgithub

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// budget is one caller's primary rate-limit budget in the current window.
type budget struct {
	start time.Time
	used  int
}

func (b *budget) remaining(limit int) int {
	if b.used >= limit {
		return 0
	}
	return limit - b.used
}

// anonymousLimit is GitHub's budget for unauthenticated requests, counted
// per client address.
const anonymousLimit = 60

// anonymousKey is the budget key of an unauthenticated client.
func anonymousKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "anonymous:" + host
}

// limitFor returns the budget per window for a caller key.
func (s *Server) limitFor(key string) int {
	if strings.HasPrefix(key, "anonymous:") {
		return anonymousLimit
	}
	return s.opts.RateLimit
}

// budgetLocked (called with rateMu held) returns the caller's budget, starting a new window when the
// previous one has ended.
func (s *Server) budgetLocked(key string) *budget {
	now := s.now()
	b := s.budgets[key]
	if b == nil || !now.Before(b.start.Add(s.opts.RateWindow)) {
		b = &budget{start: now}
		s.budgets[key] = b
	}
	return b
}

// reserve counts a request against the caller's budget. It reports false,
// counting nothing, when the budget is exhausted.
func (s *Server) reserve(key string) bool {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	b := s.budgetLocked(key)
	if b.used >= s.limitFor(key) {
		return false
	}
	b.used++
	return true
}

// refund gives back a reserved request (for 304 Not Modified).
func (s *Server) refund(key string) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	if b := s.budgetLocked(key); b.used > 0 {
		b.used--
	}
}

// exhaust uses up the caller's budget until the window resets.
func (s *Server) exhaust(key string) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	s.budgetLocked(key).used = s.limitFor(key)
}

// rateLocked describes the caller's budget as GitHub's rate object.
func (s *Server) rateLocked(key string) rateJSON {
	b := s.budgetLocked(key)
	return rateJSON{
		Limit:     s.limitFor(key),
		Used:      b.used,
		Remaining: b.remaining(s.limitFor(key)),
		Reset:     b.start.Add(s.opts.RateWindow).Unix(),
		Resource:  "core",
	}
}

func (s *Server) setRateHeaders(h http.Header, key string) {
	s.rateMu.Lock()
	rate := s.rateLocked(key)
	s.rateMu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rate.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rate.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(rate.Reset, 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(rate.Used))
	h.Set("X-RateLimit-Resource", rate.Resource)
}

// writeRateLimited answers like GitHub when the primary budget is spent.
// The rate-limit headers, with X-RateLimit-Remaining 0, are added by the
// responseWriter.
func writeRateLimited(w http.ResponseWriter) {
	writeError(w, &apiError{
		status:           http.StatusForbidden,
		Message:          "API rate limit exceeded for user ID 1.",
		DocumentationURL: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
	})
}

// writeSecondaryLimited answers like GitHub when a secondary rate limit
// applies: 403 (or the fault's status, such as 429) with Retry-After.
func writeSecondaryLimited(w http.ResponseWriter, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusForbidden
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfterOf(f)/time.Second)))
	writeError(w, &apiError{
		status: status,
		Message: fmt.Sprintf("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "+
			"If you reach out to GitHub Support for help, please include the request ID %s.", w.Header().Get("X-GitHub-Request-Id")),
		DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
	})
}

// rateJSON is GitHub's rate object.
type rateJSON struct {
	Limit     int    `json:"limit"`
	Used      int    `json:"used"`
	Remaining int    `json:"remaining"`
	Reset     int64  `json:"reset"`
	Resource  string `json:"resource,omitempty"`
}

// getRateLimit serves GET /rate_limit, which GitHub does not count.
func (s *Server) getRateLimit(w http.ResponseWriter, r *http.Request) {
	key := callerOf(r).key
	s.rateMu.Lock()
	core := s.rateLocked(key)
	s.rateMu.Unlock()
	reset := s.now().Add(time.Minute).Unix()
	other := func(limit int, resource string) rateJSON {
		return rateJSON{Limit: limit, Remaining: limit, Reset: reset, Resource: resource}
	}
	coreNoResource := core
	coreNoResource.Resource = ""
	writeJSON(w, r, http.StatusOK, map[string]any{
		"resources": map[string]rateJSON{
			"core":                 coreNoResource,
			"search":               other(30, ""),
			"graphql":              other(5000, ""),
			"integration_manifest": other(5000, ""),
			"code_search":          other(10, ""),
		},
		"rate": coreNoResource,
	})
}

// retryAfterOf is the Retry-After a SecondaryLimit fault answers, in whole
// seconds (default one minute).
func retryAfterOf(f *Fault) time.Duration {
	retry := f.RetryAfter
	if retry <= 0 {
		retry = time.Minute
	}
	return (retry + time.Second - 1) / time.Second * time.Second
}

// resetOf is when the caller's primary window resets.
func (s *Server) resetOf(key string) time.Time {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	return s.budgetLocked(key).start.Add(s.opts.RateWindow)
}
