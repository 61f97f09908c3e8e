package metricsource_test

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/metricsource/promtest"
)

func TestEnforceLabel(t *testing.T) {
	for _, tt := range []struct {
		name, query, want string
	}{
		{"a bare selector", `up`, `up{namespace="a"}`},
		{"inside an aggregation", `sum(up)`, `sum(up{namespace="a"})`},
		{"the tenant's own matcher on the label is replaced", `sum(up{namespace="b"})`, `sum(up{namespace="a"})`},
		{"a regexp on the label is replaced", `up{namespace=~".+",job="api"}`, `up{job="api",namespace="a"}`},
		{"a negative matcher on the label is replaced", `up{namespace!="a"}`, `up{namespace="a"}`},
		{"only the name, as a matcher", `{__name__=~"up|down"}`, `{__name__=~"up|down",namespace="a"}`},
		{"a range selector", `rate(http_requests_total[5m])`, `rate(http_requests_total{namespace="a"}[5m])`},
		{"both sides of a binary operation", `sum(rate(errors[5m])) / sum(rate(requests[5m]))`, `sum(rate(errors{namespace="a"}[5m])) / sum(rate(requests{namespace="a"}[5m]))`},
		{"a subquery", `max_over_time(sum(up)[1h:5m])`, `max_over_time(sum(up{namespace="a"})[1h:5m])`},
		{"offset and @ are kept", `sum(up offset 1h)`, `sum(up{namespace="a"} offset 1h)`},
		{"absent", `absent(nope)`, `absent(nope{namespace="a"})`},
		{"a number selects no series", `vector(1)`, `vector(1)`},
		{"label_replace cannot widen the selector", `label_replace(up, "namespace", "b", "", "")`, `label_replace(up{namespace="a"}, "namespace", "b", "", "")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := metricsource.EnforceLabel(tt.query, "namespace", "a")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("EnforceLabel(%q) = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
	for _, bad := range []string{`sum(`, `up{namespace="a"`, `rate(up)`, ``, `info(up)`, `sum(info(rate(up[5m])))`} {
		if got, err := metricsource.EnforceLabel(bad, "namespace", "a"); err == nil {
			t.Errorf("EnforceLabel(%q) = %q, want a parse error", bad, got)
		}
	}
}

func TestTenantLabelFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "namespace"},
		{[]string{"--prometheus-tenant-label=tenant"}, "tenant"},
		{[]string{"--prometheus-tenant-label="}, ""},
	} {
		var f metricsource.Flags
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		f.BindFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if f.TenantLabel != tt.want {
			t.Errorf("%v: TenantLabel = %q, want %q", tt.args, f.TenantLabel, tt.want)
		}
	}
}

func TestTenantLabelMustBeALabelName(t *testing.T) {
	for _, bad := range []string{"__name__", "a\xff"} {
		if _, err := (metricsource.Flags{Address: "http://127.0.0.1:9090", TenantLabel: bad}).Source(nil); err == nil || !strings.Contains(err.Error(), "--prometheus-tenant-label") {
			t.Errorf("tenant label %q: %v, want an error naming the flag", bad, err)
		}
	}
	if _, err := (metricsource.Flags{Address: "http://127.0.0.1:9090", TenantLabel: "k8s.namespace.name"}).Source(nil); err != nil {
		t.Errorf("an OpenTelemetry label name: %v", err)
	}
}

// TestTenantScopedMeasures runs the queries of two namespaces against a
// real Prometheus that holds series of both: each sees only its own.
func TestTenantScopedMeasures(t *testing.T) {
	series := func(ns, instance string, v float64) promtest.Series {
		return promtest.Series{Name: "up", Labels: map[string]string{"namespace": ns, "instance": instance, "job": "shop"},
			Samples: promtest.Every(now.Add(-2*time.Hour), now, time.Minute, func(time.Time) float64 { return v })}
	}
	prom := promtest.Start(t, promtest.Options{Series: []promtest.Series{
		series("a", "a-1", 1), series("a", "a-2", 1),
		series("b", "b-1", 1), series("b", "b-2", 1), series("b", "b-3", 1),
		{Name: "secret_revenue", Labels: map[string]string{"namespace": "b"}, Samples: promtest.Every(now.Add(-2*time.Hour), now, time.Minute, func(time.Time) float64 { return 1e6 })},
	}})
	ctx := context.Background()
	src, err := metricsource.Flags{Address: prom.URL, TenantLabel: "namespace", Timeout: 10 * time.Second}.Source(nil)
	if err != nil {
		t.Fatal(err)
	}
	open, err := metricsource.Flags{Address: prom.URL, Timeout: 10 * time.Second}.Source(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := open.Query(ctx, "a", `sum(up)`, now); err != nil || v != 5 {
		t.Fatalf("without a tenant label sum(up) = %v, %v; want 5 (both namespaces)", v, err)
	}

	for _, tt := range []struct {
		namespace, query string
		want             float64
	}{
		{"a", `sum(up)`, 2},
		{"b", `sum(up)`, 3},
		{"a", `sum(up{namespace="b"})`, 2},
		{"a", `sum(up{namespace=~".*"})`, 2},
		{"a", `count({__name__=~".+"})`, 2},
		{"a", `sum(up) / count(up)`, 1},
		{"a", `sum(max_over_time(up[10m]))`, 2},
	} {
		v, err := src.Query(ctx, tt.namespace, tt.query, now)
		if err != nil || v != tt.want {
			t.Errorf("namespace %s: %s = %v, %v; want %v", tt.namespace, tt.query, v, err, tt.want)
		}
		t.Logf("namespace %s: %s = %v", tt.namespace, tt.query, v)
	}
	if m, err := src.Mean(ctx, "a", `sum(up)`, now.Add(-time.Hour), now); err != nil || m != 2 {
		t.Errorf("namespace a: mean of sum(up) = %v, %v; want 2", m, err)
	}

	t.Run("another namespace's metric is no data", func(t *testing.T) {
		_, err := src.Query(ctx, "a", `sum(secret_revenue)`, now)
		wantKind(t, err, metricsource.NoData, `namespace="a"`)
	})
	t.Run("several series name only the tenant's own label sets", func(t *testing.T) {
		for _, q := range []string{`up`, `up{namespace="b"}`} {
			_, err := src.Query(ctx, "a", q, now)
			wantKind(t, err, metricsource.MultipleSeries, `namespace="a"`)
			if strings.Contains(err.Error(), `"b`) {
				t.Errorf("%s: the error shows another namespace's series: %v", q, err)
			}
			_, err = src.Mean(ctx, "a", q, now.Add(-time.Hour), now)
			wantKind(t, err, metricsource.MultipleSeries, `namespace="a"`)
			if strings.Contains(err.Error(), `"b`) {
				t.Errorf("%s: the error shows another namespace's series: %v", q, err)
			}
		}
	})
	t.Run("a query that does not parse is refused before it is sent", func(t *testing.T) {
		_, err := src.Query(ctx, "a", `sum(up`, now)
		wantKind(t, err, metricsource.BadQuery, "does not parse")
		_, err = src.Mean(ctx, "a", `sum(up`, now.Add(-time.Hour), now)
		wantKind(t, err, metricsource.BadQuery, "does not parse")
	})
	t.Run("no namespace, no query", func(t *testing.T) {
		_, err := src.Query(ctx, "", `sum(up)`, now)
		wantKind(t, err, metricsource.BadQuery, "no namespace")
	})
}
