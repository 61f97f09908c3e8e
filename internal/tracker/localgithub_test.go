package tracker_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/bradleyfalzon/ghinstallation/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/markdown"
	"github.com/cxloop/cxloop/internal/tracker"
)

const (
	owner = "acme"
	repo  = "journeys"
)

func newClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Now().Truncate(time.Second))
}

// env is a local GitHub with one repository and one token, unique per test
// so that rate-limit state (shared per API host and identity) never leaks.
type env struct {
	t     *testing.T
	srv   *localgithub.Server
	clk   *clocktesting.FakeClock
	token string
}

func newEnv(t *testing.T, opts localgithub.Options) *env {
	t.Helper()
	clk := newClock()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	srv, err := localgithub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddRepo(owner, repo)
	tok := fmt.Sprintf("ghp_%s_%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), time.Now().UnixNano())
	srv.AddToken(tok)
	return &env{t: t, srv: srv, clk: clk, token: tok}
}

func (e *env) client(mod ...func(*tracker.Config)) *tracker.Client {
	e.t.Helper()
	cfg := tracker.Config{
		Owner: owner, Repo: repo, APIURL: e.srv.URL(),
		Credentials: tracker.Credentials{Token: e.token},
		Now:         e.clk.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := tracker.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) issues() []localgithub.Issue { return e.srv.Issues(owner, repo) }

func (e *env) requestCount() int { return len(e.srv.Requests()) }

func (e *env) requestsSince(n int) []localgithub.Request { return e.srv.Requests()[n:] }

func req(key string) tracker.IssueRequest {
	return tracker.IssueRequest{Key: key, Title: "Improve " + key, Body: "Step " + markdown.Text("<b>@alice</b>") + " is slow."}
}

func TestLocalDroppedCreateResponseThenRetryLeavesOneIssue(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client()
	ctx := context.Background()
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/acme/journeys/issues", Kind: localgithub.DropResponseAfterCommit})

	_, _, err := c.EnsureIssue(ctx, req("checkout/payment"))
	if err == nil {
		t.Fatal("EnsureIssue succeeded although the response was dropped")
	}
	if r := tracker.Reason(err); r != cxv1.ReasonNetworkError {
		t.Errorf("Reason = %q, want NetworkError (%v)", r, err)
	}
	if n := len(e.issues()); n != 1 {
		t.Fatalf("server holds %d issues after the dropped response, want 1 (committed)", n)
	}
	// The caller's attempt holds the issue; when it asks again it says so.
	before := e.requestCount()
	again := req("checkout/payment")
	again.Attempted = true
	is, created, err := c.EnsureIssue(ctx, again)
	if err != nil || created {
		t.Fatalf("retry = created %v, err %v; want the committed issue adopted", created, err)
	}
	if is.Number != 1 || is.Key != "checkout/payment" {
		t.Errorf("adopted %+v", is)
	}
	for _, r := range e.requestsSince(before) {
		if r.Method != http.MethodGet {
			t.Errorf("retry sent %s %s; want only the re-listing", r.Method, r.Path)
		}
	}
	got := e.issues()
	if len(got) != 1 {
		t.Fatalf("server holds %d issues, want exactly 1", len(got))
	}
	if !strings.Contains(got[0].Body, tracker.KeyMarker("checkout/payment")) || !contains(got[0].Labels, "cxloop") {
		t.Errorf("issue lacks marker or label: %+v", got[0])
	}
}

func TestLocalFreshClientAdoptsIssuesOfAnEarlierOne(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	first, created, err := e.client().EnsureIssue(ctx, req("signup/email"))
	if err != nil || !created {
		t.Fatalf("first EnsureIssue: created %v, %v", created, err)
	}
	// "Restart": a fresh Client with no memory.
	again, created, err := e.client().EnsureIssue(ctx, req("signup/email"))
	if err != nil || created || again.Number != first.Number {
		t.Fatalf("fresh client: %+v created %v err %v; want #%d adopted", again, created, err, first.Number)
	}
	// Closed issues are found too (all states): closing is a decision, not a reason to reopen work.
	if err := e.srv.CloseIssue(owner, repo, first.Number, "not_planned"); err != nil {
		t.Fatal(err)
	}
	// The clients of one process share the repository's index; a refresh
	// serves them for a few seconds, until a webhook says otherwise.
	tracker.InvalidateRepository(owner, repo, 0)
	closed, created, err := e.client().EnsureIssue(ctx, req("signup/email"))
	if err != nil || created || closed.State != "closed" || closed.StateReason != "not_planned" {
		t.Fatalf("closed issue not adopted: %+v created %v err %v", closed, created, err)
	}
	if n := len(e.issues()); n != 1 {
		t.Fatalf("server holds %d issues, want 1", n)
	}
	// The body as returned hides the marker; the rendered text was
	// neutralised. (The index keeps the bodies of open issues only.)
	if strings.Contains(again.Body, "cxloop:key") || !strings.Contains(again.Body, "&lt;b&gt;@\u200dalice&lt;/b&gt;") {
		t.Errorf("body = %q", again.Body)
	}
	if closed.Body != "" {
		t.Errorf("the index kept the body of a closed issue: %q", closed.Body)
	}
}

func TestLocalServerErrorOnCreateIsRetriedAfterRelisting(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client()
	ctx := context.Background()
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/acme/journeys/issues", Kind: localgithub.ServerError, Status: 502})
	_, _, err := c.EnsureIssue(ctx, req("k"))
	var ae *tracker.APIError
	if !errors.As(err, &ae) || ae.Reason != cxv1.ReasonServerError || !ae.Retryable() {
		t.Fatalf("err = %v, want retryable ServerError", err)
	}
	// The outcome of a 5xx is unknown: the caller's attempt waits out its
	// grace (internal/exactlyonce), then asks again saying so, and GitHub
	// is asked afresh before the create.
	n := e.requestCount()
	again := req("k")
	again.Attempted = true
	_, created, err := c.EnsureIssue(ctx, again)
	if err != nil || !created {
		t.Fatalf("retry after the grace: created %v err %v", created, err)
	}
	if rs := e.srv.Requests()[n:]; len(rs) < 2 || rs[0].Method != "GET" {
		t.Errorf("the retry did not re-list first: %+v", rs)
	}
	if n := len(e.issues()); n != 1 {
		t.Fatalf("server holds %d issues, want 1", n)
	}
}

func TestLocalUnchangedSyncOnlyRevalidates(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client(func(cfg *tracker.Config) { cfg.PageSize = 2 })
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if _, _, err := c.EnsureIssue(ctx, req(k)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := e.client(func(cfg *tracker.Config) { cfg.PageSize = 2 })
	all, err := fresh.Issues(ctx)
	if err != nil || len(all) != 5 {
		t.Fatalf("Issues over 3 pages = %d, %v; want 5", len(all), err)
	}
	// Within a few seconds every client shares the last refresh: no request.
	before := e.requestCount()
	if _, err := fresh.Issues(ctx); err != nil || e.requestCount() != before {
		t.Fatalf("a sync right after a refresh sent %d requests (err %v), want none", e.requestCount()-before, err)
	}
	// A look for changes since the newest issue held is a new query each
	// time the newest moves (here twice: from none, then to the issues
	// created); after that, an unchanged repository answers 304.
	for range 2 {
		tracker.InvalidateRepository(owner, repo, 0)
		if _, err := fresh.Issues(ctx); err != nil {
			t.Fatal(err)
		}
	}
	remaining := e.srv.RateLimitRemaining(e.token)
	before = e.requestCount()
	metric304 := counterValue(t, "GET", "304")
	for i := 0; i < 3; i++ {
		tracker.InvalidateRepository(owner, repo, 0)
		again, err := fresh.Issues(ctx)
		if err != nil || len(again) != 5 {
			t.Fatalf("unchanged sync = %d, %v", len(again), err)
		}
	}
	reqs := e.requestsSince(before)
	if len(reqs) != 3 {
		t.Fatalf("3 unchanged syncs sent %d requests, want 3 (one look for changes each): %+v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if !r.Conditional || r.Status != http.StatusNotModified {
			t.Errorf("request %+v is not a conditional request answered 304", r)
		}
	}
	if got := e.srv.RateLimitRemaining(e.token); got != remaining {
		t.Errorf("rate limit remaining moved from %d to %d on 304s", remaining, got)
	}
	if d := counterValue(t, "GET", "304") - metric304; d != 3 {
		t.Errorf("cxloop_github_requests_total{GET,304} grew by %v, want 3", d)
	}
	// A change shows up: the edit moves the issue to the top of
	// sort=updated, so page 1 is answered 200 and read again. (With a
	// frozen clock updated_at would not move; the listing then relies on
	// the periodic full revalidation, see fullResyncInterval.)
	e.clk.Step(time.Second)
	if err := c.UpdateIssue(ctx, all["c"].Number, "Improve c (edited)", all["c"].Body); err != nil {
		t.Fatal(err)
	}
	changed, err := fresh.Issues(ctx)
	if err != nil || changed["c"].Title != "Improve c (edited)" {
		t.Fatalf("change not seen: %+v %v\n%+v", changed["c"], err, e.requestsSince(before))
	}
}

func TestLocalUpdateCloseComment(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client()
	ctx := context.Background()
	is, _, err := c.EnsureIssue(ctx, req("k"))
	if err != nil {
		t.Fatal(err)
	}
	before := e.requestCount()
	if err := c.UpdateIssue(ctx, is.Number, is.Title, is.Body); err != nil {
		t.Fatal(err)
	}
	if n := e.requestCount() - before; n != 0 {
		t.Errorf("UpdateIssue without change sent %d requests", n)
	}
	if err := c.UpdateIssue(ctx, is.Number, "New title", "New body"); err != nil {
		t.Fatal(err)
	}
	got := e.issues()[0]
	if got.Title != "New title" || !strings.HasPrefix(got.Body, "New body") || !strings.Contains(got.Body, tracker.KeyMarker("k")) {
		t.Errorf("after update: %q %q", got.Title, got.Body)
	}
	if err := c.CloseIssue(ctx, is.Number, "completed", "Journey step fixed."); err != nil {
		t.Fatal(err)
	}
	got = e.issues()[0]
	if got.State != "closed" || got.StateReason != "completed" || len(got.Comments) != 1 || got.Comments[0] != "Journey step fixed." {
		t.Errorf("after close: %+v", got)
	}
	before = e.requestCount()
	if err := c.CloseIssue(ctx, is.Number, "completed", "Journey step fixed."); err != nil {
		t.Fatal(err)
	}
	if n := e.requestCount() - before; n != 0 {
		t.Errorf("closing a closed issue again sent %d requests", n)
	}
	if err := c.CloseIssue(ctx, is.Number, "wontfix", ""); tracker.Reason(err) != cxv1.ReasonInvalidRequest {
		t.Errorf("bad reason: %v", err)
	}
	if err := c.Comment(ctx, is.Number, "ping"); err != nil {
		t.Fatal(err)
	}
	if got := e.issues()[0]; len(got.Comments) != 2 {
		t.Errorf("comments = %q", got.Comments)
	}
	if err := c.ReopenIssue(ctx, is.Number, "The map asks for this again."); err != nil {
		t.Fatal(err)
	}
	if got := e.issues()[0]; got.State != "open" || len(got.Comments) != 3 || got.Comments[2] != "The map asks for this again." {
		t.Errorf("after reopen: %+v", got)
	}
	before = e.requestCount()
	if err := c.ReopenIssue(ctx, is.Number, "again"); err != nil {
		t.Fatal(err)
	}
	if n := e.requestCount() - before; n != 0 {
		t.Errorf("reopening an open issue sent %d requests", n)
	}
}

func TestLocalSecondaryLimits(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t, localgithub.Options{})
			c := e.client()
			ctx := context.Background()
			e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/repos/acme/journeys/issues", Kind: localgithub.SecondaryLimit,
				Status: status, RetryAfter: 30 * time.Second})
			limitedAt := e.clk.Now()
			_, _, err := c.EnsureIssue(ctx, req("k"))
			var rl *tracker.RateLimitError
			if !errors.As(err, &rl) || !rl.Secondary || tracker.Reason(err) != cxv1.ReasonRateLimited {
				t.Fatalf("err = %v, want secondary RateLimitError", err)
			}
			if want := limitedAt.Add(30 * time.Second); !rl.ResumeAt.Equal(want) {
				t.Errorf("ResumeAt = %v, want %v", rl.ResumeAt, want)
			}
			// While limited nothing is sent, reads included.
			before := e.requestCount()
			e.clk.Step(29 * time.Second)
			c.Invalidate() // so that the read would go to GitHub
			if _, err := c.Issues(ctx); !errors.As(err, &rl) {
				t.Errorf("Issues while limited: %v", err)
			}
			if _, _, err := c.EnsureIssue(ctx, req("k")); !errors.As(err, &rl) {
				t.Errorf("EnsureIssue while limited: %v", err)
			}
			if n := e.requestCount() - before; n != 0 {
				t.Errorf("%d requests sent while limited", n)
			}
			if len(e.issues()) != 0 {
				t.Fatal("the limited request created an issue")
			}
			// After ResumeAt the retried operation completes: nothing lost, nothing doubled.
			e.clk.Step(2 * time.Second)
			_, created, err := c.EnsureIssue(ctx, req("k"))
			if err != nil || !created || len(e.issues()) != 1 {
				t.Fatalf("after resuming: created %v err %v issues %d", created, err, len(e.issues()))
			}
		})
	}
}

func TestLocalPrimaryLimitUntilReset(t *testing.T) {
	e := newEnv(t, localgithub.Options{RateWindow: time.Hour})
	c := e.client()
	ctx := context.Background()
	windowStart := e.clk.Now()
	if _, _, err := c.EnsureIssue(ctx, req("first")); err != nil {
		t.Fatal(err)
	}
	e.clk.Step(time.Minute)
	e.srv.Inject(localgithub.Fault{Method: "POST", Kind: localgithub.PrimaryLimit})
	_, _, err := c.EnsureIssue(ctx, req("second"))
	var rl *tracker.RateLimitError
	if !errors.As(err, &rl) || rl.Secondary {
		t.Fatalf("err = %v, want primary RateLimitError", err)
	}
	// The reset header is in whole seconds; the tracker resumes just after it.
	reset := time.Unix(windowStart.Add(time.Hour).Unix(), 0).Add(time.Second)
	if !rl.ResumeAt.Equal(reset) {
		t.Errorf("ResumeAt = %v, want the window reset %v", rl.ResumeAt, reset)
	}
	before := e.requestCount()
	e.clk.Step(30 * time.Minute)
	for i := 0; i < 3; i++ {
		c.Invalidate() // so that the read would go to GitHub
		if _, err := c.Issues(ctx); !errors.As(err, &rl) || !rl.ResumeAt.Equal(reset) {
			t.Errorf("Issues while limited: %v", err)
		}
	}
	if n := e.requestCount() - before; n != 0 {
		t.Errorf("%d requests sent while limited", n)
	}
	e.clk.Step(30*time.Minute + time.Second)
	_, created, err := c.EnsureIssue(ctx, req("second"))
	if err != nil || !created {
		t.Fatalf("after reset: created %v err %v", created, err)
	}
	if n := len(e.issues()); n != 2 {
		t.Fatalf("server holds %d issues, want 2", n)
	}
}

func TestLocalWriteBudget(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	// A burst of 1, then one per 10s: no minute holds more than 6 writes.
	c := e.client(func(cfg *tracker.Config) { cfg.WritesPerMinute = 6 })
	ctx := context.Background()
	if _, _, err := c.EnsureIssue(ctx, req("a")); err != nil {
		t.Fatal(err)
	}
	before := e.requestCount()
	_, _, err := c.EnsureIssue(ctx, req("b"))
	var rl *tracker.RateLimitError
	if !errors.As(err, &rl) || !rl.Budget || rl.ResumeAt.Sub(e.clk.Now()) != 10*time.Second {
		t.Fatalf("err = %v, want write budget RateLimitError 10s ahead", err)
	}
	if d := c.WriteDelay("phase/a"); d != 10*time.Second {
		t.Errorf("WriteDelay = %s, want 10s", d)
	}
	for _, r := range e.requestsSince(before) {
		if r.Method == http.MethodPost {
			t.Errorf("a write was sent beyond the budget: %+v", r)
		}
	}
	e.clk.Step(10 * time.Second)
	if d := c.WriteDelay("phase/a"); d != 0 {
		t.Errorf("WriteDelay after the refill = %s, want 0", d)
	}
	if _, created, err := c.EnsureIssue(ctx, req("b")); err != nil || !created {
		t.Fatalf("after the budget refilled: created %v err %v", created, err)
	}
}

// TestLocalHourlyWriteBudget: the hour's budget holds too, and no hour ever
// sees more writes than it allows, however the minute's budget refills.
func TestLocalHourlyWriteBudget(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client(func(cfg *tracker.Config) { cfg.WritesPerMinute, cfg.WritesPerHour = 60, 20 })
	ctx := context.Background()
	sent := 0
	start := e.clk.Now()
	var rl *tracker.RateLimitError
	for i := range 200 {
		_, _, err := c.EnsureIssue(ctx, req(fmt.Sprintf("k%d", i)))
		switch {
		case err == nil:
			sent++
		case errors.As(err, &rl) && rl.Budget:
			e.clk.Step(rl.ResumeAt.Sub(e.clk.Now()))
		default:
			t.Fatal(err)
		}
		if e.clk.Now().Sub(start) >= time.Hour {
			break
		}
	}
	if sent > 20 {
		t.Errorf("%d issues created within an hour, budget 20", sent)
	}
	if sent < 18 {
		t.Errorf("only %d issues created within an hour, budget 20: the budget is not used", sent)
	}
}

func TestLocalGitHubApp(t *testing.T) {
	e := newEnv(t, localgithub.Options{Now: time.Now}) // JWTs are signed with the wall clock
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.AddApp(1234, 5678, &key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	creds, err := tracker.CredentialsFromSecret(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "cxloop", Name: "github-app"},
		Data:       map[string][]byte{"appID": []byte("1234"), "installationID": []byte("5678"), "privateKey": pemKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(func(cfg *tracker.Config) { cfg.Credentials = creds; cfg.Now = nil })
	ctx := context.Background()
	is, created, err := c.EnsureIssue(ctx, req("app"))
	if err != nil || !created {
		t.Fatalf("EnsureIssue as an App: created %v err %v", created, err)
	}
	m, err := c.Issues(ctx)
	if err != nil || m["app"].Number != is.Number {
		t.Fatalf("Issues as an App: %v %v", m, err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s %x", creds, creds, creds, creds, creds); strings.Contains(s, "PRIVATE") || strings.Contains(s, string(pemKey[40:80])) {
		t.Errorf("credentials printed their key: %s", s)
	}
	// A wrong installation is reported, not retried blindly.
	bad := creds
	bad.InstallationID = 9999
	_, err = e.client(func(cfg *tracker.Config) { cfg.Credentials = bad; cfg.Now = nil }).Issues(ctx)
	if r := tracker.Reason(err); r != cxv1.ReasonInstallationNotFound && r != cxv1.ReasonBadCredentials {
		t.Errorf("wrong installation: Reason %q (%v)", r, err)
	}
}

func TestLocalBadTokenAndRepositoryErrors(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	const secret = "ghp_notKnownToTheServer0123456789"
	bad := e.client(func(cfg *tracker.Config) { cfg.Credentials = tracker.Credentials{Token: secret} })
	_, _, err := bad.EnsureIssue(ctx, req("k"))
	var ae *tracker.APIError
	if !errors.As(err, &ae) || ae.Reason != cxv1.ReasonBadCredentials || ae.StatusCode != 401 {
		t.Fatalf("err = %v, want BadCredentials 401", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, ae), secret) {
		t.Errorf("error reveals the token: %v", err)
	}

	missing := e.client(func(cfg *tracker.Config) { cfg.Repo = "nope" })
	if _, _, err := missing.EnsureIssue(ctx, req("k")); tracker.Reason(err) != cxv1.ReasonRepositoryNotFound {
		t.Errorf("missing repo: %v", err)
	}
	e.srv.SetIssuesDisabled(owner, repo, true)
	if _, _, err := e.client().EnsureIssue(ctx, req("k")); tracker.Reason(err) != cxv1.ReasonIssuesDisabled {
		t.Errorf("issues disabled: %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func counterValue(t *testing.T, method, code string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "cxloop_github_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] == method && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestLocalOpenRecheckDropsVanishedIssues: an issue deleted on GitHub does
// not show up among the issues updated since; every OpenRecheck (10
// minutes) the open issues are listed whole, and one the index holds open
// that is listed nowhere leaves it. A close made meanwhile is not taken
// for a deletion.
func TestLocalOpenRecheckDropsVanishedIssues(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	c := e.client(func(cfg *tracker.Config) { cfg.PageSize = 2 })
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if _, _, err := c.EnsureIssue(ctx, req(k)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.Issues(ctx)
	if err != nil || len(all) != 5 {
		t.Fatalf("Issues = %d, %v", len(all), err)
	}
	if err := e.srv.DeleteIssue(owner, repo, all["b"].Number); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.CloseIssue(owner, repo, all["c"].Number, "completed"); err != nil {
		t.Fatal(err)
	}
	tracker.InvalidateRepository(owner, repo, 0)
	got, err := c.Issues(ctx)
	if err != nil || got["c"].State != "closed" {
		t.Fatalf("the close was not seen among the changes: %+v %v", got["c"], err)
	}
	if _, ok := got["b"]; !ok {
		t.Fatal("a deletion was noticed before the open issues were listed again")
	}
	e.clk.Step(10 * time.Minute)
	before := e.requestCount()
	got, err = c.Issues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["b"]; ok {
		t.Error("the deleted issue is still held after the open issues were listed again")
	}
	if len(got) != 4 || got["c"].State != "closed" || got["a"].State != "open" {
		t.Errorf("after the recheck: %d issues, c %s, a %s; want 4, closed, open", len(got), got["c"].State, got["a"].State)
	}
	openPages := 0
	for _, r := range e.requestsSince(before) {
		if strings.Contains(r.Path, "state=open") {
			openPages++
		}
	}
	if openPages != 2 {
		t.Errorf("the recheck listed %d pages of open issues, want 2 (3 open issues, 2 a page)", openPages)
	}
}

// TestLocalCommentOnce: a comment identified by a key is posted once, also
// by a cxloop that restarted after posting it (a fresh client, nothing in
// memory); another key is another comment.
func TestLocalCommentOnce(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	is, _, err := e.client().EnsureIssue(ctx, req("k"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.client().CommentOnce(ctx, is.Number, "outcome/painpoint/p1/1764489600", "CSAT went up."); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.client().CommentOnce(ctx, is.Number, "outcome/painpoint/p1/1764576000", "CSAT went up again."); err != nil {
		t.Fatal(err)
	}
	got := e.issues()[0].Comments
	if len(got) != 2 || !strings.HasPrefix(got[0], "CSAT went up.\n\n") || !strings.Contains(got[0], tracker.CommentMarker("outcome/painpoint/p1/1764489600")) {
		t.Fatalf("comments = %q, want one per key, each with its marker", got)
	}
	if err := e.client().CommentOnce(ctx, is.Number, "not a key!", "x"); tracker.Reason(err) != cxv1.ReasonInvalidRequest {
		t.Errorf("an invalid key: %v", err)
	}
}

// TestLocalCommentOnceCountsOnlyItsOwnMarker: the marker is predictable;
// a person who posts it first does not keep cxloop's comment from being
// made. Only a comment by the account cxloop authenticates as counts.
func TestLocalCommentOnceCountsOnlyItsOwnMarker(t *testing.T) {
	e := newEnv(t, localgithub.Options{})
	ctx := context.Background()
	is, _, err := e.client().EnsureIssue(ctx, req("k"))
	if err != nil {
		t.Fatal(err)
	}
	const key = "outcome/painpoint/p1/1764489600"
	if err := e.srv.Comment(owner, repo, is.Number, "nothing to see\n\n"+tracker.CommentMarker(key)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.client().CommentOnce(ctx, is.Number, key, "CSAT went up."); err != nil {
			t.Fatal(err)
		}
	}
	got := e.issues()[0].Comments
	if len(got) != 2 || !strings.HasPrefix(got[1], "CSAT went up.\n\n") {
		t.Fatalf("comments = %q, want the foreign one and cxloop's own, once", got)
	}
}

// TestLocalCommentOnceAsAnApp: an App's comments are written by its bot,
// "<slug>[bot]", which is who CommentOnce looks for.
func TestLocalCommentOnceAsAnApp(t *testing.T) {
	e := newEnv(t, localgithub.Options{Now: time.Now}) // JWTs are signed with the wall clock
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.AddApp(1234, 5678, &key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	creds := tracker.Credentials{AppID: 1234, InstallationID: 5678, PrivateKey: pemKey}
	app := func() *tracker.Client {
		return e.client(func(cfg *tracker.Config) { cfg.Credentials = creds; cfg.Now = nil })
	}
	ctx := context.Background()
	is, _, err := app().EnsureIssue(ctx, req("k"))
	if err != nil {
		t.Fatal(err)
	}
	const ck = "outcome/painpoint/p1/1764489600"
	if err := e.srv.Comment(owner, repo, is.Number, tracker.CommentMarker(ck)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := app().CommentOnce(ctx, is.Number, ck, "CSAT went up."); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.issues()[0].Comments; len(got) != 2 {
		t.Fatalf("comments = %q, want the foreign one and the App's own, once", got)
	}
	// The token client is another identity: the App's comment is not its own.
	if err := e.client().CommentOnce(ctx, is.Number, ck, "CSAT went up."); err != nil {
		t.Fatal(err)
	}
	if got := e.issues()[0].Comments; len(got) != 3 {
		t.Fatalf("comments = %q, want a third, by the token's user", got)
	}
}

// TestLocalCommentOnceWithAnInstallationToken: an installation token given
// as "token" has no user (GET /user is 403) and cannot learn its App's
// slug; its own comments are an App's bot's, which a person cannot fake.
func TestLocalCommentOnceWithAnInstallationToken(t *testing.T) {
	e := newEnv(t, localgithub.Options{Now: time.Now})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.AddApp(1234, 5678, &key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	itr, err := ghinstallation.New(http.DefaultTransport, 1234, 5678, pemKey)
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(e.srv.URL(), "/")
	ctx := context.Background()
	token, err := itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := func() *tracker.Client {
		return e.client(func(cfg *tracker.Config) { cfg.Credentials = tracker.Credentials{Token: token}; cfg.Now = nil })
	}
	is, _, err := c().EnsureIssue(ctx, req("k"))
	if err != nil {
		t.Fatal(err)
	}
	const ck = "outcome/painpoint/p1/1764489600"
	if err := e.srv.Comment(owner, repo, is.Number, tracker.CommentMarker(ck)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c().CommentOnce(ctx, is.Number, ck, "CSAT went up."); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.issues()[0].Comments; len(got) != 2 {
		t.Fatalf("comments = %q, want the person's and the installation's own, once", got)
	}
}
