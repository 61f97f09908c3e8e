package main

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// A scrape of the manager's /metrics as controller-runtime writes it: the
// text format lists the +Inf bucket, which the registry's own Gather leaves
// out.
const scrape = `# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="customerjourney",result="success"} 7
controller_runtime_reconcile_total{controller="customerjourney",result="error"} 1
controller_runtime_reconcile_total{controller="improvementphase",result="success"} 20
# TYPE controller_runtime_reconcile_time_seconds histogram
controller_runtime_reconcile_time_seconds_bucket{controller="customerjourney",le="0.5"} 6
controller_runtime_reconcile_time_seconds_bucket{controller="customerjourney",le="1"} 8
controller_runtime_reconcile_time_seconds_bucket{controller="customerjourney",le="60"} 8
controller_runtime_reconcile_time_seconds_bucket{controller="customerjourney",le="+Inf"} 8
controller_runtime_reconcile_time_seconds_sum{controller="customerjourney"} 3
controller_runtime_reconcile_time_seconds_count{controller="customerjourney"} 8
controller_runtime_reconcile_time_seconds_bucket{controller="improvementphase",le="0.5"} 19
controller_runtime_reconcile_time_seconds_bucket{controller="improvementphase",le="1"} 19
controller_runtime_reconcile_time_seconds_bucket{controller="improvementphase",le="60"} 19
controller_runtime_reconcile_time_seconds_bucket{controller="improvementphase",le="+Inf"} 20
controller_runtime_reconcile_time_seconds_sum{controller="improvementphase"} 90
controller_runtime_reconcile_time_seconds_count{controller="improvementphase"} 20
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 12345
`

func TestReconcileFiguresFromAScrape(t *testing.T) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(scrape))
	if err != nil {
		t.Fatal(err)
	}
	total, slowest := reconcileFigures(mfs)
	if total["customerjourney"] != 8 || total["improvementphase"] != 20 {
		t.Errorf("reconciles: got %v, want customerjourney 8, improvementphase 20", total)
	}
	if slowest["customerjourney"] != 1 {
		t.Errorf("slowest journey reconcile: got %g, want the 1s bucket", slowest["customerjourney"])
	}
	if slowest["improvementphase"] != 61 {
		t.Errorf("slowest phase reconcile: got %g, want 61 (above the last bucket)", slowest["improvementphase"])
	}
	if got := counterValue(mfs, "go_memstats_mallocs_total"); got != 12345 {
		t.Errorf("mallocs: got %g", got)
	}
}

func TestStatusMiB(t *testing.T) {
	status := "Name:\tmanager\nVmHWM:\t  262144 kB\nVmRSS:\t  131072 kB\n"
	if got := statusMiB(status, "VmHWM"); got != 256 {
		t.Errorf("VmHWM: got %g MiB, want 256", got)
	}
	if got := statusMiB(status, "VmRSS"); got != 128 {
		t.Errorf("VmRSS: got %g MiB, want 128", got)
	}
}
