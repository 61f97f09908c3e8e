package metricsource_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/metricsource/promtest"
	"github.com/cxloop/cxloop/internal/outcome"
)

// The injected clock: "now" for the tests. History is backfilled for the
// five weeks before it; a quick win is opened three weeks ago and closed two
// weeks ago, so that both settle windows (7 days) lie inside real history.
var (
	now         = time.Now().UTC().Truncate(time.Hour)
	opened      = now.Add(-21 * 24 * time.Hour)
	closed      = now.Add(-14 * 24 * time.Hour)
	settle      = 7 * 24 * time.Hour
	historyFrom = now.Add(-35 * 24 * time.Hour)
)

// step is a series that holds before until the issue opened, moves linearly
// while it is open, and holds after from the close on.
func step(before, after float64) func(time.Time) float64 {
	return func(t time.Time) float64 {
		switch {
		case t.Before(opened):
			return before
		case t.After(closed):
			return after
		}
		return before + (after-before)*float64(t.Sub(opened))/float64(closed.Sub(opened))
	}
}

func history() []promtest.Series {
	g := func(tp string, f func(time.Time) float64) promtest.Series {
		return promtest.Series{Name: "cx_touchpoint_csat", Labels: map[string]string{"touchpoint": tp}, Samples: promtest.Every(historyFrom, now, 2*time.Minute, f)}
	}
	return []promtest.Series{
		g("improved", step(3.1, 4.3)),
		g("unchanged", func(t time.Time) float64 { return 4.0 + 0.05*float64(t.Hour()%2) }),
		g("worse", step(4.2, 3.0)),
		{Name: "cx_contact_rate", Labels: map[string]string{"channel": "phone"}, Samples: promtest.Every(historyFrom, now, 2*time.Minute, step(0.30, 0.18))},
		{Name: "cx_contact_rate", Labels: map[string]string{"channel": "email"}, Samples: promtest.Every(historyFrom, now, 2*time.Minute, step(0.10, 0.10))},
	}
}

func judge(t *testing.T, src metricsource.Source, query string, dir outcome.Direction) (outcome.Verdict, float64, float64) {
	t.Helper()
	w := outcome.WindowsFor(opened, closed, settle)
	ctx := context.Background()
	base, err := src.Mean(ctx, "", query, w.BaselineStart, w.BaselineEnd)
	if err != nil {
		t.Fatalf("baseline of %s: %v", query, err)
	}
	after, err := src.Mean(ctx, "", query, w.AfterStart, w.AfterEnd)
	if err != nil {
		t.Fatalf("after of %s: %v", query, err)
	}
	return outcome.Judge(base, after, dir, outcome.DefaultTolerancePercent), base, after
}

func TestAgainstRealPrometheus(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Series: history()})
	src, err := metricsource.New(metricsource.Config{Address: prom.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("improved", func(t *testing.T) {
		v, base, after := judge(t, src, `cx_touchpoint_csat{touchpoint="improved"}`, outcome.HigherIsBetter)
		if v != outcome.Improved || base < 3.09 || base > 3.11 || after < 4.29 || after > 4.31 {
			t.Errorf("got %s, %v → %v; want Improved, 3.1 → 4.3", v, base, after)
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		if v, base, after := judge(t, src, `cx_touchpoint_csat{touchpoint="unchanged"}`, outcome.HigherIsBetter); v != outcome.Unchanged {
			t.Errorf("got %s, %v → %v; want Unchanged", v, base, after)
		}
	})
	t.Run("worse", func(t *testing.T) {
		if v, base, after := judge(t, src, `cx_touchpoint_csat{touchpoint="worse"}`, outcome.HigherIsBetter); v != outcome.Worse {
			t.Errorf("got %s, %v → %v; want Worse", v, base, after)
		}
	})
	t.Run("lower is better, aggregated by the query", func(t *testing.T) {
		if v, base, after := judge(t, src, `sum(cx_contact_rate)`, outcome.LowerIsBetter); v != outcome.Improved {
			t.Errorf("got %s, %v → %v; want Improved", v, base, after)
		}
	})
	t.Run("instant value at the injected time", func(t *testing.T) {
		v, err := src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, now.Add(-time.Hour))
		if err != nil || v != 4.3 {
			t.Errorf("Query = %v, %v; want 4.3", v, err)
		}
		v, err = src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, opened.Add(-24*time.Hour))
		if err != nil || v != 3.1 {
			t.Errorf("Query a day before the open = %v, %v; want 3.1", v, err)
		}
	})
	t.Run("no data", func(t *testing.T) {
		_, err := src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="never-measured"}`, now)
		wantKind(t, err, metricsource.NoData, "no data at")
		w := outcome.WindowsFor(opened, closed, settle)
		_, err = src.Mean(ctx, "", `cx_touchpoint_csat{touchpoint="never-measured"}`, w.BaselineStart, w.BaselineEnd)
		wantKind(t, err, metricsource.NoData, "no data from")
		// Before the history starts there is nothing either.
		_, err = src.Mean(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, historyFrom.Add(-30*24*time.Hour), historyFrom.Add(-8*24*time.Hour))
		wantKind(t, err, metricsource.NoData, "no data from")
		// 0/0 is NaN: no number, not a value.
		_, err = src.Query(ctx, "", `sum(cx_touchpoint_csat{touchpoint="improved"}) * 0 / 0`, now)
		wantKind(t, err, metricsource.NoData, "no number")
	})
	t.Run("several series are refused with a clear message", func(t *testing.T) {
		_, err := src.Query(ctx, "", `cx_contact_rate`, now)
		wantKind(t, err, metricsource.MultipleSeries, "the query returns 2 series")
		wantKind(t, err, metricsource.MultipleSeries, "aggregate it")
		_, err = src.Mean(ctx, "", `cx_touchpoint_csat`, opened.Add(-settle), opened)
		wantKind(t, err, metricsource.MultipleSeries, "the query returns 3 series")
		if got := metricsource.ReasonOf(err); got != cxv1.ReasonMultipleSeries {
			t.Errorf("reason %s", got)
		}
	})
	t.Run("a bad query", func(t *testing.T) {
		_, err := src.Query(ctx, "", `sum(`, now)
		wantKind(t, err, metricsource.BadQuery, "Prometheus refused the query")
	})
	t.Run("a slow query past its timeout", func(t *testing.T) {
		target, _ := url.Parse(prom.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer slow.Close()
		src, _ := metricsource.New(metricsource.Config{Address: slow.URL, Timeout: 300 * time.Millisecond})
		start := time.Now()
		_, err := src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, now)
		wantKind(t, err, metricsource.Timeout, "past its timeout of 300ms")
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the timeout did not hold: %s", took)
		}
		if got := metricsource.ReasonOf(err); got != cxv1.ReasonQueryTimeout {
			t.Errorf("reason %s", got)
		}
	})
	t.Run("Prometheus down and back", func(t *testing.T) {
		prom.Stop()
		_, err := src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, now)
		wantKind(t, err, metricsource.Unavailable, "cannot be reached")
		if got := metricsource.ReasonOf(err); got != cxv1.ReasonPrometheusUnavailable {
			t.Errorf("reason %s", got)
		}
		if err := prom.Restart(); err != nil {
			t.Fatal(err)
		}
		if v, err := src.Query(ctx, "", `cx_touchpoint_csat{touchpoint="improved"}`, now); err != nil || v != 4.3 {
			t.Errorf("after the restart: %v, %v", v, err)
		}
	})
}

func TestAuthRequired(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Series: history(), BasicAuth: true})
	ctx := context.Background()
	query := `cx_touchpoint_csat{touchpoint="improved"}`
	for _, tt := range []struct {
		name  string
		creds func(context.Context) (metricsource.Credentials, error)
		ok    bool
	}{
		{"no credentials", nil, false},
		{"a wrong password", fixed(metricsource.Credentials{Username: promtest.BasicAuthUser, Password: "wrong"}), false},
		{"a bearer token where basic auth is asked", fixed(metricsource.Credentials{BearerToken: "t0ken"}), false},
		{"the Secret cannot be read", func(context.Context) (metricsource.Credentials, error) {
			return metricsource.Credentials{}, errors.New(`secret "prometheus" not found`)
		}, false},
		{"the right password", fixed(metricsource.Credentials{Username: promtest.BasicAuthUser, Password: promtest.BasicAuthPassword}), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := metricsource.New(metricsource.Config{Address: prom.URL, Credentials: tt.creds})
			if err != nil {
				t.Fatal(err)
			}
			v, err := src.Query(ctx, "", query, now)
			if tt.ok {
				if err != nil || v != 4.3 {
					t.Fatalf("Query = %v, %v", v, err)
				}
				return
			}
			wantKind(t, err, metricsource.Unauthorized, "")
			if strings.Contains(err.Error(), promtest.BasicAuthPassword) || strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error shows a credential: %v", err)
			}
			if got := metricsource.ReasonOf(err); got != cxv1.ReasonPrometheusUnauthorized {
				t.Errorf("reason %s", got)
			}
		})
	}
}

func TestUnconfigured(t *testing.T) {
	_, err := metricsource.Unconfigured{}.Query(context.Background(), "", "up", now)
	wantKind(t, err, metricsource.NotConfigured, "--prometheus-address")
}

func fixed(c metricsource.Credentials) func(context.Context) (metricsource.Credentials, error) {
	return func(context.Context) (metricsource.Credentials, error) { return c, nil }
}

func wantKind(t *testing.T, err error, kind metricsource.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want kind %d", kind)
	}
	if got := metricsource.KindOf(err); got != kind {
		t.Fatalf("kind %d, want %d: %v", got, kind, err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}

// TestHugeAnswerIsRefused: an answer far larger than one series is cut off
// at 16 MiB, not read into memory.
func TestHugeAnswerIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[`))
		chunk := []byte(strings.Repeat(`{"metric":{"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"value":[1,"1"]},`, 1000))
		for i := 0; i < 400; i++ { // about 26 MB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	src, _ := metricsource.New(metricsource.Config{Address: srv.URL})
	_, err := src.Query(context.Background(), "", "x", now)
	wantKind(t, err, metricsource.MultipleSeries, "larger than 16 MiB")
}

// TestTLS: --prometheus-ca-file trusts a Prometheus whose certificate the
// system does not; without it the failure names the certificate.
func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"4.2"]}]}}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := metricsource.Flags{Address: srv.URL, CAFile: ca, Timeout: 5 * time.Second}.Source(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := src.Query(context.Background(), "", "csat", now); err != nil || v != 4.2 {
		t.Errorf("with the CA: %v, %v", v, err)
	}
	src, _ = metricsource.Flags{Address: srv.URL, Timeout: 5 * time.Second}.Source(nil)
	_, err = src.Query(context.Background(), "", "csat", now)
	wantKind(t, err, metricsource.Unavailable, "certificate")
	if _, err := (metricsource.Flags{Address: srv.URL, CAFile: filepath.Join(t.TempDir(), "missing.pem")}).Source(nil); err == nil {
		t.Error("a missing CA file was accepted")
	}
	if src, err := (metricsource.Flags{}).Source(nil); err != nil || src == nil {
		t.Errorf("no address: %v, %v", src, err)
	} else if _, err := src.Query(context.Background(), "", "csat", now); metricsource.KindOf(err) != metricsource.NotConfigured {
		t.Errorf("no address: %v", err)
	}
}

// An address that does not parse, with white space in its user info, is
// refused without showing the password: the parser's error quotes the
// whole address.
func TestAnAddressThatDoesNotParseKeepsItsPasswordOut(t *testing.T) {
	for _, address := range []string{"http://cx:s3cret pw@prom:9090", "http://cx:s3cret/pw@prom:9090", "http://cx:s3cret?pw@prom:9090"} {
		_, err := metricsource.New(metricsource.Config{Address: address})
		if err == nil {
			t.Fatalf("%q was accepted", address)
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw") {
			t.Errorf("the error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "http://***@prom:9090") {
			t.Errorf("the error should name the address, redacted: %v", err)
		}
	}
	// Without user info, the parser's reason helps and hides nothing.
	_, err := metricsource.New(metricsource.Config{Address: "http://prom:90x0"})
	if err == nil || !strings.Contains(err.Error(), "invalid port") {
		t.Errorf("an address without user info should say why it does not parse: %v", err)
	}
}

// A query whose answer is a string (PromQL's string literal) is the
// query's fault, not Prometheus's: BadQuery, naming the type.
func TestAStringResultIsABadQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"string","result":[1700000000,"csat"]}}`))
	}))
	defer srv.Close()
	src, _ := metricsource.New(metricsource.Config{Address: srv.URL})
	_, err := src.Query(context.Background(), "", `"csat"`, now)
	wantKind(t, err, metricsource.BadQuery, "string")
}
