package tracker

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// writeWindow is one of GitHub's documented limits on content-creating
// requests, read as written: at most limit writes in any span (80 a
// minute, 500 an hour per token). It remembers when the last limit writes
// were sent, so the whole budget can be spent, unlike a token bucket that
// must hold back part of it to never exceed a window: a write is due once
// the limit-th write before it has left the span.
//
// pace, when set, spreads writes over the span too, so that a minute's
// budget does not go out in one burst (GitHub asks for a pause between
// content-creating requests): a token bucket refilling at the window's
// average rate, whose burst (a sixth of the limit) lets a few writes go at
// once and a write delayed by a busy worker be caught up.
type writeWindow struct {
	name  string // "minute", "hour": for messages and metrics
	limit int
	span  time.Duration
	pace  *rate.Limiter
	sent  []time.Time // ring of the last limit writes
	next  int         // index of the oldest in sent, once full
}

func newWriteWindow(name string, limit int, span time.Duration, paced bool) *writeWindow {
	limit = max(1, limit)
	w := &writeWindow{name: name, limit: limit, span: span, sent: make([]time.Time, 0, min(limit, 4096))}
	if paced {
		w.pace = rate.NewLimiter(rate.Every(w.interval()), max(1, limit/6))
	}
	return w
}

// delay is how long from now until a write fits the window.
func (w *writeWindow) delay(now time.Time) time.Duration {
	var d time.Duration
	if w.pace != nil {
		if tokens := w.pace.TokensAt(now); tokens < 1 {
			d = time.Duration((1 - tokens) / float64(w.pace.Limit()) * float64(time.Second))
		}
	}
	if len(w.sent) == w.limit {
		d = max(d, w.sent[w.next].Add(w.span).Sub(now))
	}
	return max(d, 0)
}

// take records a write sent now; delay(now) was 0.
func (w *writeWindow) take(now time.Time) {
	if w.pace != nil {
		w.pace.ReserveN(now, 1)
	}
	if len(w.sent) < w.limit {
		w.sent = append(w.sent, now)
		return
	}
	w.sent[w.next] = now
	w.next = (w.next + 1) % w.limit
}

// settle moves the newest write to at, if later.
func (w *writeWindow) settle(at time.Time) {
	if len(w.sent) == 0 {
		return
	}
	newest := len(w.sent) - 1
	if len(w.sent) == w.limit {
		newest = (w.next + w.limit - 1) % w.limit
	}
	if at.After(w.sent[newest]) {
		w.sent[newest] = at
	}
}

// remaining is how many writes the span still allows now (ignoring pace).
func (w *writeWindow) remaining(now time.Time) int {
	inSpan := 0
	for _, t := range w.sent {
		if now.Sub(t) < w.span {
			inSpan++
		}
	}
	return w.limit - inSpan
}

// interval is the average time between writes when the window holds them back.
func (w *writeWindow) interval() time.Duration { return w.span / time.Duration(w.limit) }

func (w *writeWindow) spentError(now time.Time, d time.Duration) *RateLimitError {
	// Never sooner than a tenth of a second: a phase is not requeued for
	// the microseconds a rounding leaves.
	return &RateLimitError{ResumeAt: now.Add(max(d, time.Second/10)), Budget: true,
		Message: fmt.Sprintf("cxloop's write budget for this token (per %s) is spent", w.name)}
}

// MostWithin is the most of times (in order) within any span: the writes
// in GitHub's busiest window, as GitHub counts them. Tests and the bench
// hold what reached a server to the budget with it.
func MostWithin(times []time.Time, span time.Duration) int {
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= span {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}
