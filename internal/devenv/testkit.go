package devenv

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// ShiftedClock is real time shifted by an offset that the caller moves: it
// ticks (timers, requeues and rate limits run in real time), while Now can
// stand weeks in the past so that a story (the demo) or a test can let
// weeks pass between two steps. cxloop and the local GitHub share one.
// Tests that need time to stand still use k8s.io/utils/clock/testing.
type ShiftedClock struct {
	clock.RealClock
	offset atomic.Int64
}

var _ clock.Clock = &ShiftedClock{}

// Now is real time plus the offset.
func (c *ShiftedClock) Now() time.Time { return time.Now().Add(c.Offset()) }

// Since is the time elapsed since t on this clock.
func (c *ShiftedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Offset is how far the clock is from real time.
func (c *ShiftedClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// SetOffset puts the clock offset away from real time (negative: in the past).
func (c *ShiftedClock) SetOffset(offset time.Duration) { c.offset.Store(int64(offset)) }

// FreeAddr is a 127.0.0.1 address with a port free at the time of asking.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// SyncBuffer is a bytes.Buffer that one goroutine (a process's output, a
// logger) can write while another reads it. With Max set, writes beyond Max
// bytes are dropped (and reported written), so a chatty child cannot fill
// memory.
type SyncBuffer struct {
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Max > 0 && s.b.Len() > s.Max {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String is what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
