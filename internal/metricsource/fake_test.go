package metricsource_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/cxloop/cxloop/internal/metricsource"
)

// fakeProm is an HTTP server that answers Prometheus' API with a canned
// status and body and records what each request carried: the tests of the
// client's side that need no real Prometheus (answers it never gives, such
// as malformed JSON, or ones that are slow to provoke, such as a 16 MiB one).
type fakeProm struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []fakeReq
}

type fakeReq struct {
	path, auth string
	form       map[string]string
}

func newFakeProm(t *testing.T, status int, body string) *fakeProm {
	t.Helper()
	f := &fakeProm{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form := map[string]string{}
		for k := range r.Form {
			form[k] = r.Form.Get(k)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeReq{path: r.URL.Path, auth: r.Header.Get("Authorization"), form: form})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProm) requests() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

func (f *fakeProm) last(t *testing.T) fakeReq {
	t.Helper()
	r := f.requests()
	if len(r) == 0 {
		t.Fatal("no request reached Prometheus")
	}
	return r[len(r)-1]
}

func (f *fakeProm) source(t *testing.T, cfg metricsource.Config) *metricsource.Prometheus {
	t.Helper()
	cfg.Address = f.URL
	src, err := metricsource.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func success(resultType, result string) string {
	return fmt.Sprintf(`{"status":"success","data":{"resultType":%q,"result":%s}}`, resultType, result)
}

func TestReasonOfEveryKind(t *testing.T) {
	for _, tt := range []struct {
		kind metricsource.Kind
		want string
	}{
		{metricsource.NoData, cxv1.ReasonNoData},
		{metricsource.MultipleSeries, cxv1.ReasonMultipleSeries},
		{metricsource.Unavailable, cxv1.ReasonPrometheusUnavailable},
		{metricsource.Timeout, cxv1.ReasonQueryTimeout},
		{metricsource.Unauthorized, cxv1.ReasonPrometheusUnauthorized},
		{metricsource.BadQuery, cxv1.ReasonBadQuery},
		{metricsource.NotConfigured, cxv1.ReasonPrometheusNotConfigured},
		{metricsource.Kind(0), cxv1.ReasonPrometheusUnavailable},
		{metricsource.Kind(99), cxv1.ReasonPrometheusUnavailable},
	} {
		t.Run(fmt.Sprintf("kind %d", tt.kind), func(t *testing.T) {
			e := &metricsource.Error{Kind: tt.kind, Message: "m"}
			if got := e.Reason(); got != tt.want {
				t.Errorf("Reason() = %q, want %q", got, tt.want)
			}
			wrapped := fmt.Errorf("scoring journey shop: %w", e)
			if got := metricsource.ReasonOf(wrapped); got != tt.want {
				t.Errorf("ReasonOf(wrapped) = %q, want %q", got, tt.want)
			}
			if got := metricsource.KindOf(wrapped); got != tt.kind {
				t.Errorf("KindOf(wrapped) = %d, want %d", got, tt.kind)
			}
		})
	}
	t.Run("an error of another type", func(t *testing.T) {
		other := errors.New("boom")
		if got := metricsource.KindOf(other); got != metricsource.Unavailable {
			t.Errorf("KindOf = %d, want Unavailable", got)
		}
		if got := metricsource.ReasonOf(other); got != cxv1.ReasonPrometheusUnavailable {
			t.Errorf("ReasonOf = %q", got)
		}
	})
	t.Run("Error shows its message and unwraps its cause", func(t *testing.T) {
		cause := errors.New("dial tcp: refused")
		e := &metricsource.Error{Kind: metricsource.Unavailable, Message: "Prometheus cannot be reached", Err: cause}
		if e.Error() != "Prometheus cannot be reached" {
			t.Errorf("Error() = %q", e.Error())
		}
		if !errors.Is(e, cause) {
			t.Error("errors.Is does not reach the cause")
		}
	})
}

// TestInstantAnswers: how each shape of answer to an instant query becomes
// a value or a failure of the right kind.
func TestInstantAnswers(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tt := range []struct {
		name, body string
		want       float64
		kind       metricsource.Kind // 0: no error
		msg        string
	}{
		{"a scalar", success("scalar", `[1,"2.5"]`), 2.5, 0, ""},
		{"one series", success("vector", `[{"metric":{"a":"b"},"value":[1,"4.25"]}]`), 4.25, 0, ""},
		{"a negative value", success("vector", `[{"metric":{},"value":[1,"-3"]}]`), -3, 0, ""},
		{"no series", success("vector", `[]`), 0, metricsource.NoData, "no data at 2026-01-02T03:04:05Z"},
		{"NaN", success("vector", `[{"metric":{},"value":[1,"NaN"]}]`), 0, metricsource.NoData, "no number at"},
		{"+Inf", success("vector", `[{"metric":{},"value":[1,"+Inf"]}]`), 0, metricsource.NoData, "+Inf"},
		{"-Inf scalar", success("scalar", `[1,"-Inf"]`), 0, metricsource.NoData, "-Inf"},
		{"two series", success("vector", `[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]`), 0, metricsource.MultipleSeries, `the query returns 2 series (for example {a="1"} and {a="2"})`},
		{"a matrix", success("matrix", `[{"metric":{},"values":[[1,"1"]]}]`), 0, metricsource.BadQuery, "returns a matrix, not one series"},
		{"malformed JSON", `{"status":"success","data":`, 0, metricsource.Unavailable, "answered"},
		{"a value that is not a number", success("vector", `[{"metric":{},"value":[1,"many"]}]`), 0, metricsource.Unavailable, ""},
		{"huge label sets are clipped in the message", success("vector", `[{"metric":{"a":"`+long+`"},"value":[1,"1"]},{"metric":{"b":"`+long+`"},"value":[1,"2"]}]`), 0, metricsource.MultipleSeries, "xxx..."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeProm(t, http.StatusOK, tt.body).source(t, metricsource.Config{})
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			v, err := src.Query(context.Background(), "", "q", at)
			if tt.kind == 0 {
				if err != nil || v != tt.want {
					t.Fatalf("Query = %v, %v; want %v", v, err, tt.want)
				}
				return
			}
			wantKind(t, err, tt.kind, tt.msg)
			if v != 0 {
				t.Errorf("a failure came with the value %v", v)
			}
			if strings.Contains(err.Error(), long) {
				t.Errorf("the message holds a label set of %d characters unclipped", len(long))
			}
		})
	}
}

// TestServerAnswers: Prometheus' own error answers and HTTP statuses
// become the kinds the controllers report.
func TestServerAnswers(t *testing.T) {
	apiErr := func(typ, msg string) string {
		return fmt.Sprintf(`{"status":"error","errorType":%q,"error":%q}`, typ, msg)
	}
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   metricsource.Kind
		msg    string
	}{
		{"bad_data on 400", 400, apiErr("bad_data", `parse error: unexpected "("`), metricsource.BadQuery, `Prometheus refused the query: parse error: unexpected "("`},
		{"execution on 422", 422, apiErr("execution", "many-to-many matching not allowed"), metricsource.BadQuery, "many-to-many matching not allowed"},
		{"timeout on 422", 422, apiErr("timeout", "query timed out"), metricsource.Timeout, "stopped the query at its timeout of 30s: query timed out"},
		{"canceled on 400", 400, apiErr("canceled", "query was canceled"), metricsource.Timeout, "query was canceled"},
		// As real Prometheus answers them: a query timeout under 503, a cancel under 499.
		{"timeout on 503", 503, apiErr("timeout", "query timed out in expression evaluation"), metricsource.Timeout, "stopped the query at its timeout of 30s: query timed out in expression evaluation"},
		{"canceled on 499", 499, apiErr("canceled", "query was canceled in expression evaluation"), metricsource.Timeout, "query was canceled"},
		{"unavailable on 503", 503, apiErr("unavailable", "TSDB not ready"), metricsource.Unavailable, "answered server error: 503"},
		{"internal on 500", 500, apiErr("internal", "out of memory"), metricsource.Unavailable, "answered server error: 500"},
		{"a proxy's 502 page", 502, `<html>Bad Gateway</html>`, metricsource.Unavailable, "answered server error: 502"},
		{"not found", 404, `404 page not found`, metricsource.Unavailable, "answered client error: 404"},
		{"401", 401, `Unauthorized`, metricsource.Unauthorized, "401 Unauthorized"},
		{"403", 403, `Forbidden`, metricsource.Unauthorized, "403 Forbidden"},
		{"a success status on a 400", 400, success("scalar", `[1,"1"]`), metricsource.Unavailable, "inconsistent body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProm(t, tt.status, tt.body)
			src := f.source(t, metricsource.Config{})
			_, err := src.Query(context.Background(), "", "q", time.Now())
			wantKind(t, err, tt.kind, tt.msg)
			if tt.kind == metricsource.Unavailable && !strings.Contains(err.Error(), f.URL) {
				t.Errorf("the message does not name the Prometheus: %v", err)
			}
			_, err = src.Mean(context.Background(), "", "q", time.Now().Add(-time.Hour), time.Now())
			wantKind(t, err, tt.kind, tt.msg)
		})
	}
}

// TestMeanAnswers: the mean skips NaN and infinities, and a range query's
// step follows MaxPoints with a floor of a second.
func TestMeanAnswers(t *testing.T) {
	end := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, body string
		want       float64
		kind       metricsource.Kind
		msg        string
	}{
		{"the mean of the points", success("matrix", `[{"metric":{},"values":[[1,"1"],[2,"2"],[3,"6"]]}]`), 3, 0, ""},
		{"NaN and infinities are skipped", success("matrix", `[{"metric":{},"values":[[1,"NaN"],[2,"4"],[3,"+Inf"],[4,"-Inf"],[5,"2"]]}]`), 3, 0, ""},
		{"only NaN is no data", success("matrix", `[{"metric":{},"values":[[1,"NaN"],[2,"NaN"]]}]`), 0, metricsource.NoData, "no data from 2026-01-01T23:00:00Z to 2026-01-02T00:00:00Z"},
		{"a series without points is no data", success("matrix", `[{"metric":{},"values":[]}]`), 0, metricsource.NoData, "no data from"},
		{"no series", success("matrix", `[]`), 0, metricsource.NoData, "no data from"},
		{"three series", success("matrix", `[{"metric":{"i":"1"},"values":[[1,"1"]]},{"metric":{"i":"2"},"values":[[1,"1"]]},{"metric":{"i":"3"},"values":[[1,"1"]]}]`), 0, metricsource.MultipleSeries, `returns 3 series (for example {i="1"} and {i="2"})`},
		{"a vector to a range query", success("vector", `[]`), 0, metricsource.BadQuery, "returns a vector, not one series"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeProm(t, http.StatusOK, tt.body).source(t, metricsource.Config{})
			m, err := src.Mean(context.Background(), "", "q", end.Add(-time.Hour), end)
			if tt.kind == 0 {
				if err != nil || math.Abs(m-tt.want) > 1e-9 {
					t.Fatalf("Mean = %v, %v; want %v", m, err, tt.want)
				}
				return
			}
			wantKind(t, err, tt.kind, tt.msg)
		})
	}
}

func TestMeanStepAndWindow(t *testing.T) {
	body := success("matrix", `[{"metric":{},"values":[[1,"1"]]}]`)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		maxPoints int
		window    time.Duration
		step      string
	}{
		{"120 points by default", 0, 2 * time.Hour, "60"},
		{"a negative bound is the default", -5, 2 * time.Hour, "60"},
		{"MaxPoints bounds the points", 10, 2 * time.Hour, "720"},
		{"a week in 120 points", 0, 7 * 24 * time.Hour, "5040"},
		{"no step under a second", 0, time.Minute, "1"},
		{"a window of one second", 1000, time.Second, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProm(t, http.StatusOK, body)
			src := f.source(t, metricsource.Config{MaxPoints: tt.maxPoints})
			if _, err := src.Mean(context.Background(), "", "q", start, start.Add(tt.window)); err != nil {
				t.Fatal(err)
			}
			r := f.last(t)
			if r.path != "/api/v1/query_range" {
				t.Errorf("path %s", r.path)
			}
			if r.form["step"] != tt.step {
				t.Errorf("step %q, want %q", r.form["step"], tt.step)
			}
			if r.form["start"] != fmt.Sprint(start.Unix()) || r.form["end"] != fmt.Sprint(start.Add(tt.window).Unix()) {
				t.Errorf("window %s to %s", r.form["start"], r.form["end"])
			}
		})
	}
	t.Run("an empty or reversed window sends nothing", func(t *testing.T) {
		f := newFakeProm(t, http.StatusOK, body)
		src := f.source(t, metricsource.Config{})
		for _, end := range []time.Time{start, start.Add(-time.Second)} {
			_, err := src.Mean(context.Background(), "", "q", start, end)
			wantKind(t, err, metricsource.NoData, "empty window")
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests for empty windows", n)
		}
	})
}

func TestQuerySendsTimeAndTimeout(t *testing.T) {
	body := success("scalar", `[1,"1"]`)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		want    string
	}{
		{"the default timeout", 0, "30s"},
		{"a negative timeout is the default", -time.Second, "30s"},
		{"a configured timeout", 1500 * time.Millisecond, "1.5s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProm(t, http.StatusOK, body)
			if _, err := f.source(t, metricsource.Config{Timeout: tt.timeout}).Query(context.Background(), "", "up == 1", at); err != nil {
				t.Fatal(err)
			}
			r := f.last(t)
			if r.path != "/api/v1/query" || r.form["query"] != "up == 1" || r.form["time"] != fmt.Sprint(at.Unix()) {
				t.Errorf("request %+v", r)
			}
			if r.form["timeout"] != tt.want {
				t.Errorf("timeout %q, want %q", r.form["timeout"], tt.want)
			}
		})
	}
}

// TestSlowPrometheusTimesOut: the configured timeout bounds the wait for
// a Prometheus that answers nothing.
func TestSlowPrometheusTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	src, err := metricsource.New(metricsource.Config{Address: srv.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = src.Mean(context.Background(), "", "q", start.Add(-time.Hour), start)
	wantKind(t, err, metricsource.Timeout, "past its timeout of 200ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the timeout did not hold: %s", took)
	}
	if metricsource.ReasonOf(err) != cxv1.ReasonQueryTimeout {
		t.Errorf("reason %s", metricsource.ReasonOf(err))
	}
}

// TestCredentialsAreSentAndReadEachTime: the Authorization header follows
// the credentials the function returns at each request (a rotated Secret
// takes effect without a restart).
func TestCredentialsAreSentAndReadEachTime(t *testing.T) {
	f := newFakeProm(t, http.StatusOK, success("scalar", `[1,"1"]`))
	var mu sync.Mutex
	current := metricsource.Credentials{}
	calls := 0
	src := f.source(t, metricsource.Config{Credentials: func(context.Context) (metricsource.Credentials, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return current, nil
	}})
	for _, tt := range []struct {
		name  string
		creds metricsource.Credentials
		want  string
	}{
		{"none", metricsource.Credentials{}, ""},
		{"a bearer token", metricsource.Credentials{BearerToken: "t0ken"}, "Bearer t0ken"},
		{"a token read from a file keeps no newline", metricsource.Credentials{BearerToken: " t0ken\n"}, "Bearer t0ken"},
		{"basic auth", metricsource.Credentials{Username: "cx", Password: "pw"}, "Basic Y3g6cHc="},
		{"a token wins over basic auth", metricsource.Credentials{BearerToken: "tok", Username: "cx", Password: "pw"}, "Bearer tok"},
		{"a password without a user sends nothing", metricsource.Credentials{Password: "pw"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			current = tt.creds
			before := calls
			mu.Unlock()
			if _, err := src.Query(context.Background(), "", "q", time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := f.last(t).auth; got != tt.want {
				t.Errorf("Authorization %q, want %q", got, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != before+1 {
				t.Errorf("the credentials were read %d times for one query", calls-before)
			}
		})
	}
	t.Run("a failure to read them is Unauthorized and sends nothing", func(t *testing.T) {
		f := newFakeProm(t, http.StatusOK, success("scalar", `[1,"1"]`))
		src := f.source(t, metricsource.Config{Credentials: func(context.Context) (metricsource.Credentials, error) {
			return metricsource.Credentials{}, errors.New(`secret "prom" has no key "token"`)
		}})
		_, err := src.Query(context.Background(), "", "q", time.Now())
		wantKind(t, err, metricsource.Unauthorized, `reading the Prometheus credentials: secret "prom" has no key "token"`)
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests without credentials", n)
		}
	})
}

// TestAddressUserInfoNeverShows: a user:password in --prometheus-address
// stays out of every error message.
func TestAddressUserInfoNeverShows(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	addr := strings.Replace(down.URL, "http://", "http://cxuser:s3cr3t@", 1)
	down.Close() // nothing listens there any more
	f := newFakeProm(t, http.StatusInternalServerError, "")
	for _, tt := range []struct {
		name, address string
		kind          metricsource.Kind
	}{
		{"cannot be reached", addr, metricsource.Unavailable},
		{"a server error", strings.Replace(f.URL, "http://", "http://cxuser:s3cr3t@", 1), metricsource.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := metricsource.New(metricsource.Config{Address: tt.address, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Query(context.Background(), "", "q", time.Now())
			wantKind(t, err, tt.kind, "***@")
			for _, secret := range []string{"s3cr3t", "cxuser"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows %q: %v", secret, err)
				}
			}
		})
	}
	t.Run("an address that does not parse", func(t *testing.T) {
		_, err := metricsource.New(metricsource.Config{Address: "http://cxuser:s3cr3t@host:port:9090/"})
		if err == nil {
			t.Fatal("accepted")
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error shows the password: %v", err)
		}
	})
	t.Run("no address", func(t *testing.T) {
		if _, err := metricsource.New(metricsource.Config{}); err == nil || !strings.Contains(err.Error(), "no Prometheus address") {
			t.Errorf("New without an address: %v", err)
		}
	})
}

// TestTenantScopeOnTheWire: with a tenant label, what reaches Prometheus
// is the enforced query, and NoData says which series were read.
func TestTenantScopeOnTheWire(t *testing.T) {
	empty := success("vector", `[]`)
	t.Run("the enforced query is sent", func(t *testing.T) {
		f := newFakeProm(t, http.StatusOK, success("scalar", `[1,"1"]`))
		src := f.source(t, metricsource.Config{TenantLabel: "namespace"})
		if _, err := src.Query(context.Background(), "shop", `sum(up{namespace="bank"})`, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := f.last(t).form["query"]; got != `sum(up{namespace="shop"})` {
			t.Errorf("sent %q", got)
		}
	})
	t.Run("NoData names the label and namespace", func(t *testing.T) {
		src := newFakeProm(t, http.StatusOK, empty).source(t, metricsource.Config{TenantLabel: "tenant"})
		_, err := src.Query(context.Background(), "shop", "up", time.Now())
		wantKind(t, err, metricsource.NoData, `(only series with tenant="shop" are read)`)
	})
	t.Run("without a tenant label the query is sent as written and NoData has no hint", func(t *testing.T) {
		f := newFakeProm(t, http.StatusOK, empty)
		src := f.source(t, metricsource.Config{})
		_, err := src.Query(context.Background(), "shop", `sum(up{namespace="bank"})`, time.Now())
		wantKind(t, err, metricsource.NoData, "no data at")
		if strings.Contains(err.Error(), "only series") {
			t.Errorf("a hint without a tenant label: %v", err)
		}
		if got := f.last(t).form["query"]; got != `sum(up{namespace="bank"})` {
			t.Errorf("sent %q", got)
		}
	})
	t.Run("other failures get no hint", func(t *testing.T) {
		src := newFakeProm(t, http.StatusOK, success("vector", `[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"1"]}]`)).source(t, metricsource.Config{TenantLabel: "namespace"})
		_, err := src.Query(context.Background(), "shop", "up", time.Now())
		wantKind(t, err, metricsource.MultipleSeries, "2 series")
		if strings.Contains(err.Error(), "only series") {
			t.Errorf("a NoData hint on another kind: %v", err)
		}
	})
	t.Run("no namespace sends nothing", func(t *testing.T) {
		f := newFakeProm(t, http.StatusOK, empty)
		src := f.source(t, metricsource.Config{TenantLabel: "namespace"})
		_, err := src.Mean(context.Background(), "", "up", time.Now().Add(-time.Hour), time.Now())
		wantKind(t, err, metricsource.BadQuery, "no namespace to enforce namespace=")
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests without a namespace", n)
		}
	})
}

// TestEnforceLabelHostileValues: the enforced value is quoted by
// Prometheus' printer, so a value cannot close the matcher and add its own.
func TestEnforceLabelHostileValues(t *testing.T) {
	for _, tt := range []struct{ value, want string }{
		{`a"} or vector(1) #`, `up{namespace="a\"} or vector(1) #"}`},
		{`a\`, `up{namespace="a\\"}`},
		{"a\nb", `up{namespace="a\nb"}`},
		{"", `up{namespace=""}`},
	} {
		got, err := metricsource.EnforceLabel("up", "namespace", tt.value)
		if err != nil {
			t.Fatalf("value %q: %v", tt.value, err)
		}
		if got != tt.want {
			t.Errorf("value %q: %s, want %s", tt.value, got, tt.want)
		}
	}
	t.Run("a huge query of many selectors", func(t *testing.T) {
		q := strings.TrimSuffix(strings.Repeat("up + ", 2000), " + ")
		got, err := metricsource.EnforceLabel(q, "namespace", "a")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(got, `up{namespace="a"}`); n != 2000 {
			t.Errorf("%d of 2000 selectors enforced", n)
		}
	})
}

func TestFlagsDefaultsAndParsing(t *testing.T) {
	var f metricsource.Flags
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.BindFlags(fs)
	if f.Timeout != metricsource.DefaultTimeout || f.Address != "" || f.InsecureSkipVerify {
		t.Errorf("defaults %+v", f)
	}
	if err := fs.Parse([]string{
		"--prometheus-address=https://prom:9090", "--prometheus-secret=prom", "--prometheus-ca-file=/ca.pem",
		"--prometheus-cert-file=/c.pem", "--prometheus-key-file=/k.pem", "--prometheus-insecure-skip-verify",
		"--prometheus-timeout=5s",
	}); err != nil {
		t.Fatal(err)
	}
	want := metricsource.Flags{Address: "https://prom:9090", SecretName: "prom", CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem",
		InsecureSkipVerify: true, Timeout: 5 * time.Second, TenantLabel: metricsource.DefaultTenantLabel}
	if f != want {
		t.Errorf("parsed %+v, want %+v", f, want)
	}
	if err := fs.Parse([]string{"--prometheus-timeout=soon"}); err == nil {
		t.Error("a timeout that is not a duration was accepted")
	}
}

// TestFlagsSourceCredentials: the credentials function is used only when
// a Secret is named.
func TestFlagsSourceCredentials(t *testing.T) {
	for _, tt := range []struct {
		secret, want string
	}{
		{"", ""},
		{"prom", "Bearer from-secret"},
	} {
		t.Run("secret "+tt.secret, func(t *testing.T) {
			f := newFakeProm(t, http.StatusOK, success("scalar", `[1,"1"]`))
			src, err := metricsource.Flags{Address: f.URL, SecretName: tt.secret}.Source(fixed(metricsource.Credentials{BearerToken: "from-secret"}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := src.Query(context.Background(), "ns", "up", time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := f.last(t).auth; got != tt.want {
				t.Errorf("Authorization %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnconfiguredMean: both reads of a manager without Prometheus fail
// with NotConfigured.
func TestUnconfiguredMean(t *testing.T) {
	_, err := metricsource.Unconfigured{}.Mean(context.Background(), "ns", "up", now.Add(-time.Hour), now)
	wantKind(t, err, metricsource.NotConfigured, "--prometheus-address")
	if metricsource.ReasonOf(err) != cxv1.ReasonPrometheusNotConfigured {
		t.Errorf("reason %s", metricsource.ReasonOf(err))
	}
}

// writeKeyPair writes a self-signed certificate and its key as PEM files.
func writeKeyPair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name                  string
		ca, cert, key         string
		insecure              bool
		wantNil               bool
		wantErr               string
		wantRoots, wantClient bool
	}{
		{name: "nothing set is the system's defaults", wantNil: true},
		{name: "a key alone is nothing", key: key, wantNil: true},
		{name: "skip verify alone", insecure: true},
		{name: "a CA bundle", ca: cert, wantRoots: true},
		{name: "a client certificate", cert: cert, key: key, wantClient: true},
		{name: "both", ca: cert, cert: cert, key: key, wantRoots: true, wantClient: true},
		{name: "a CA file without PEM", ca: notPEM, wantErr: "holds no PEM certificate"},
		{name: "a missing CA file", ca: filepath.Join(dir, "missing.pem"), wantErr: "no such file"},
		{name: "a certificate without its key", cert: cert, wantErr: "open"},
		{name: "a key that is not a key", cert: cert, key: notPEM, wantErr: "PEM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := metricsource.TLSConfig(tt.ca, tt.cert, tt.key, tt.insecure)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNil {
				if cfg != nil {
					t.Errorf("config %+v, want nil", cfg)
				}
				return
			}
			if cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify != tt.insecure {
				t.Errorf("MinVersion %x InsecureSkipVerify %v", cfg.MinVersion, cfg.InsecureSkipVerify)
			}
			if (cfg.RootCAs != nil) != tt.wantRoots || (len(cfg.Certificates) == 1) != tt.wantClient {
				t.Errorf("roots %v, client certificates %d", cfg.RootCAs != nil, len(cfg.Certificates))
			}
		})
	}
}
