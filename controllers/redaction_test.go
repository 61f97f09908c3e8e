package controllers

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/metricsource"
)

// TestPrometheusAddressIsRedacted: a user:password in --prometheus-address
// reaches neither the journey's conditions nor its measures (which the
// status page shows), however Prometheus fails.
func TestPrometheusAddressIsRedacted(t *testing.T) {
	// A port nothing listens on: the query cannot be sent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	const password = "s3cretPassw0rd"
	src, err := metricsource.New(metricsource.Config{Address: "http://cxloop:" + password + "@" + addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cj := measuredJourney()
	readMeasures(context.Background(), src, cj, time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC))
	c := meta.FindStatusCondition(cj.Status.Conditions, cxv1.ConditionMeasuresReady)
	if c == nil {
		t.Fatal("no MeasuresReady condition")
	}
	raw, _ := json.Marshal(cj.Status)
	for _, leak := range []string{password, "cxloop:"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the status holds %q: %s", leak, raw)
		}
	}
	if !strings.Contains(c.Message, "http://***@"+addr) {
		t.Errorf("condition %q does not show the redacted address", c.Message)
	}
	t.Logf("MeasuresReady: %s", c.Message)
}

func TestEventsAreRedacted(t *testing.T) {
	rec := events.NewFakeRecorder(1)
	redactingRecorder{rec}.Eventf(&cxv1.CustomerJourney{}, nil, "Warning", "PrometheusUnavailable", "Read", "Prometheus at %s cannot be reached", "https://cx:s3cret@prom:9090")
	got := <-rec.Events
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "https://***@prom:9090") {
		t.Errorf("event %q", got)
	}
}
