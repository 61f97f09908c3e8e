package exactlyonce_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cxloop/cxloop/internal/exactlyonce"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

const (
	owner = "acme"
	repo  = "journeys"
	grace = time.Minute
)

var t0 = time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC) // a fixed time; whole seconds

// TestCheck: what to do about one issue, from its attempt and whether the
// index shows it: record (no attempt: send), wait out the grace, time out
// (send, saying an earlier attempt may have landed), settle (seen).
func TestCheck(t *testing.T) {
	at := func(ago time.Duration) *time.Time { x := t0.Add(-ago); return &x }
	for _, tc := range []struct {
		name      string
		grace     time.Duration
		attempted *time.Time
		seen      bool
		want      exactlyonce.Verdict
	}{
		{name: "no attempt, not seen: send", want: exactlyonce.Verdict{}},
		{name: "no attempt, seen: settled", seen: true, want: exactlyonce.Verdict{Seen: true}},
		{name: "attempt within its grace, seen: settled", attempted: at(time.Second), seen: true, want: exactlyonce.Verdict{Seen: true}},
		{name: "attempt just made: wait the whole grace", attempted: at(0), want: exactlyonce.Verdict{Wait: grace}},
		{name: "attempt 45s ago: wait 15s", attempted: at(45 * time.Second), want: exactlyonce.Verdict{Wait: 15 * time.Second}},
		{name: "attempt exactly one grace ago: timed out", attempted: at(grace), want: exactlyonce.Verdict{Attempted: true}},
		{name: "attempt long ago: timed out", attempted: at(time.Hour), want: exactlyonce.Verdict{Attempted: true}},
		{name: "grace unset: DefaultGrace", grace: -1, attempted: at(30 * time.Second), want: exactlyonce.Verdict{Wait: exactlyonce.DefaultGrace - 30*time.Second}},
		{name: "short grace: timed out sooner", grace: 10 * time.Second, attempted: at(30 * time.Second), want: exactlyonce.Verdict{Attempted: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.grace
			if g == 0 {
				g = grace
			} else if g < 0 {
				g = 0
			}
			a := exactlyonce.Attempts{Grace: g, Clock: clocktesting.NewFakePassiveClock(t0)}
			got := a.Check(tc.attempted, tc.seen)
			if got != tc.want {
				t.Fatalf("Check = %+v, want %+v", got, tc.want)
			}
			if got.Send() != (!tc.want.Seen && tc.want.Wait == 0) {
				t.Errorf("Send() = %v", got.Send())
			}
			if p := a.Pending(tc.attempted); p != (tc.attempted != nil && !a.Check(tc.attempted, false).Attempted) {
				t.Errorf("Pending = %v", p)
			}
		})
	}
}

func TestGraceDefaultedOnce(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, exactlyonce.DefaultGrace}, {-time.Second, exactlyonce.DefaultGrace}, {time.Second, time.Second}, {2 * time.Hour, 2 * time.Hour},
	} {
		if got := exactlyonce.GraceOf(tc.in); got != tc.want {
			t.Errorf("GraceOf(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if got := (exactlyonce.Attempts{Grace: tc.in}).GraceOrDefault(); got != tc.want {
			t.Errorf("Attempts{Grace: %v}.GraceOrDefault() = %v, want %v", tc.in, got, tc.want)
		}
	}
	if exactlyonce.DefaultGrace != time.Minute {
		t.Errorf("DefaultGrace = %v: docs and --create-grace say 1m", exactlyonce.DefaultGrace)
	}
}

func TestStale(t *testing.T) {
	a := exactlyonce.Attempts{Grace: grace, Clock: clocktesting.NewFakePassiveClock(t0)}
	for _, tc := range []struct {
		ago  time.Duration
		want bool
	}{{0, false}, {grace, false}, {10 * grace, false}, {10*grace + time.Second, true}, {24 * time.Hour, true}} {
		if got := a.Stale(t0.Add(-tc.ago)); got != tc.want {
			t.Errorf("Stale(%v ago) = %v, want %v", tc.ago, got, tc.want)
		}
	}
}

// status is a custom resource's status as the API server keeps it: the
// attempt and a resourceVersion that moves with every write.
type status struct {
	rv int
	at *time.Time
	// postsAtWrite is how many creates GitHub had received when the
	// attempt was last written.
	postsAtWrite int
}

// reader is one process's view: what it read, and the attempt in memory.
type reader struct {
	st  *status
	rv  int // the resourceVersion read
	at  *time.Time
	env *env
}

func (r *reader) Set(at time.Time) { r.at = &at }
func (r *reader) Clear()           { r.at = nil }

// Write refuses a write to a status that moved on, as statusMergeFromLocked.
func (r *reader) Write(context.Context) error {
	if r.st.rv != r.rv {
		return fmt.Errorf("%w: resourceVersion %d, read %d", exactlyonce.ErrSuperseded, r.st.rv, r.rv)
	}
	r.st.rv++
	r.rv = r.st.rv
	r.st.at = r.at
	r.st.postsAtWrite = r.env.posts()
	return nil
}

type gate struct{ err error }

func (g gate) Check(context.Context) error { return g.err }
func (g gate) SendBy(grace time.Duration) func(context.Context) context.Context {
	return func(ctx context.Context) context.Context { return ctx }
}

type env struct {
	t   *testing.T
	srv *localgithub.Server
	clk *clocktesting.FakeClock
	tok string
}

func newEnv(t *testing.T) *env {
	clk := clocktesting.NewFakeClock(t0)
	srv, err := localgithub.New(localgithub.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddRepo(owner, repo)
	tok := "ghp_" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	srv.AddToken(tok)
	return &env{t: t, srv: srv, clk: clk, tok: tok}
}

// process is a fresh cxloop process: its own tracker client (nothing in
// memory), reading the status as it is.
func (e *env) process(st *status) (*tracker.Client, *reader) {
	c, err := tracker.New(tracker.Config{Owner: owner, Repo: repo, APIURL: e.srv.URL(), Credentials: tracker.Credentials{Token: e.tok}, Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, &reader{st: st, rv: st.rv, at: st.at, env: e}
}

func (e *env) posts() int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Method == "POST" && r.Path == "/repos/"+owner+"/"+repo+"/issues" {
			n++
		}
	}
	return n
}

func (e *env) issues() int { return len(e.srv.Issues(owner, repo)) }

var req = tracker.IssueRequest{Key: "shop/visit/p1", Title: "Fix the checkout"}

// round is one reconcile of the issue: Check against the index, then Open
// when the verdict says send.
func round(ctx context.Context, t *testing.T, a exactlyonce.Attempts, c *tracker.Client, r *reader, g gate) (exactlyonce.Verdict, exactlyonce.Result, error) {
	t.Helper()
	issues, err := c.Issues(tracker.WithMaxAge(ctx, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, seen := issues[req.Key]
	v := a.Check(r.at, seen)
	if !v.Send() {
		return v, exactlyonce.Result{}, nil
	}
	rq := req
	rq.Attempted = v.Attempted
	res, err := a.Open(ctx, r, r, g, c, rq)
	return v, res, err
}

// TestOpen: one attempt against the local GitHub over HTTP, for each way
// it can end, then the rounds that follow, until the issue is open: it is
// opened exactly once whatever happens.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// before prepares the first round: a fault, another writer.
		before func(e *env, st *status, r *reader)
		g      gate
		// wantErr checks the first round's error.
		wantErr func(error) bool
		// wantHeld: after the first round the attempt holds the issue.
		wantHeld bool
		// wantSent: the first round's request reached the tracker.
		wantSent bool
		// restart: the next rounds are a new process (a crash).
		restart bool
	}{
		{
			name: "recorded, then created", wantErr: func(err error) bool { return err == nil }, wantSent: true,
		},
		{
			name:   "superseded: the status moved on since it was read",
			before: func(_ *env, st *status, _ *reader) { st.rv++ },
			wantErr: func(err error) bool {
				return exactlyonce.Superseded(err)
			},
		},
		{
			name: "the gate refuses (another replica leads)", g: gate{err: errors.New("not the leader")},
			wantErr: func(err error) bool { return err != nil && !exactlyonce.Superseded(err) }, wantHeld: true,
		},
		{
			name: "crash between record and create", g: gate{err: errors.New("killed")},
			wantErr: func(err error) bool { return err != nil }, wantHeld: true, restart: true,
		},
		{
			name: "the answer is lost after the create landed",
			before: func(e *env, _ *status, _ *reader) {
				e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/" + owner + "/" + repo + "/issues", Kind: localgithub.DropResponseAfterCommit})
			},
			wantErr: func(err error) bool { return err != nil && !tracker.NotCreated(err) }, wantHeld: true, wantSent: true,
		},
		{
			name: "the answer is lost, then the process crashes",
			before: func(e *env, _ *status, _ *reader) {
				e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/" + owner + "/" + repo + "/issues", Kind: localgithub.DropResponseAfterCommit})
			},
			wantErr: func(err error) bool { return err != nil && !tracker.NotCreated(err) }, wantHeld: true, wantSent: true, restart: true,
		},
		{
			name: "GitHub fails with a 502 (nothing created, but who knows)",
			before: func(e *env, _ *status, _ *reader) {
				e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/" + owner + "/" + repo + "/issues", Kind: localgithub.ServerError, Status: 502})
			},
			wantErr: func(err error) bool { return err != nil && !tracker.NotCreated(err) }, wantHeld: true, wantSent: true,
		},
		{
			name: "GitHub refuses with a 4xx: provably not created, taken back at once",
			before: func(e *env, _ *status, _ *reader) {
				e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/" + owner + "/" + repo + "/issues", Kind: localgithub.ServerError, Status: 422})
			},
			wantErr: func(err error) bool { return err != nil && tracker.NotCreated(err) }, wantSent: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			st := &status{}
			c, r := e.process(st)
			if tc.before != nil {
				tc.before(e, st, r)
			}
			a := exactlyonce.Attempts{Grace: grace, Clock: e.clk}
			_, res, err := round(ctx, t, a, c, r, tc.g)
			if !tc.wantErr(err) {
				t.Fatalf("first round: %v", err)
			}
			if res.Sent != tc.wantSent {
				t.Errorf("Sent = %v, want %v", res.Sent, tc.wantSent)
			}
			if held := r.at != nil; held != tc.wantHeld {
				t.Errorf("attempt held in memory = %v, want %v", held, tc.wantHeld)
			}
			if st.at != nil && st.postsAtWrite != 0 {
				t.Errorf("the attempt was written after %d creates: it must be written before", st.postsAtWrite)
			}
			if exactlyonce.Superseded(err) && e.posts() != 0 {
				t.Errorf("a superseded attempt sent %d creates", e.posts())
			}
			if tc.restart {
				c, r = e.process(st) // what the crashed process held in memory is gone
			} else if exactlyonce.Superseded(err) {
				r.rv = st.rv // the next reconcile reads the status as it is
			}
			// The next rounds: while an attempt holds the issue and it has
			// not shown up, nothing is sent; after its grace it is asked
			// for again, once.
			for i := 0; e.issues() == 0 || r.at != nil; i++ {
				if i == 5 {
					t.Fatalf("after %d rounds: %d issues, attempt %v", i, e.issues(), r.at)
				}
				before := e.posts()
				v, _, err := round(ctx, t, a, c, r, gate{})
				if v.Wait > 0 {
					if e.posts() != before {
						t.Fatal("a create was sent while an attempt held the issue")
					}
					e.clk.Step(v.Wait)
					continue
				}
				if err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			if n := e.issues(); n != 1 {
				t.Fatalf("GitHub holds %d issues, want 1", n)
			}
		})
	}
}
