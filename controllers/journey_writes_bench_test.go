package controllers

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
)

// apiServerProfile, when set, is where BenchmarkJourneyWrites saves a CPU
// profile of the API server taken while it writes journey status:
//
//	go test ./controllers -run '^$' -bench JourneyWrites -args -apiserver-cpuprofile=/tmp/apiserver.pprof
var apiServerProfile = flag.String("apiserver-cpuprofile", "", "BenchmarkJourneyWrites: save a CPU profile of the API server during status writes here")

// BenchmarkJourneyWrites measures what one write of a 140-touchpoint journey
// costs the API server (issue 18: "every journey status write costs the API
// server about 0.2 s at 140 touchpoints"): a status patch as the journey
// reconciler sends it (statusMergeFrom, only the figures that changed), a
// spec apply as GitOps sends it (server-side apply of the whole map, one
// owner changed), and a delivery annotation as the webhook records it. Each
// reports ns/op (sequential, as one worker writes one journey), the API
// server's CPU per write (process_cpu_seconds_total), and the object's size
// as the API server returns it, with its managedFields.
//
//	go test ./controllers -run '^$' -bench JourneyWrites -benchtime 100x -timeout 30m
func BenchmarkJourneyWrites(b *testing.B) {
	for _, shape := range []struct {
		name     string
		measures int
	}{{"140tp", 0}, {"140tp-500measures", maxMeasures}} {
		b.Run(shape.name, func(b *testing.B) {
			ctx := context.Background()
			cj := writeBenchJourney(b, shape.measures)
			b.Run("status", func(b *testing.B) {
				// The reconciler reads from its cache, so no GET here: cur
				// is kept up to date by each patch's answer.
				cur := cj.DeepCopy()
				toggle := 0
				write := func() error {
					before := cur.DeepCopy()
					// What changes most often: the health score and the
					// Ready message that quotes it.
					toggle++
					health := int32(60 + toggle%2)
					cur.Status.HealthScore = &health
					conditions.MarkReady(&cur.Status.Conditions, cur.Generation, cxv1.ReasonMapScored,
						fmt.Sprintf("140 touchpoints on 12 channels, health %d, %d gaps", health, len(cur.Status.Gaps)))
					return patchStatus(ctx, k8sClient, k8sClient, before, cur, nil, nil)
				}
				benchmarkWrites(b, cj, func() error {
					b.StartTimer()
					defer b.StopTimer()
					return write()
				})
				if *apiServerProfile != "" {
					profileAPIServer(b, *apiServerProfile+"."+shape.name, 20*time.Second, write)
				}
			})
			b.Run("spec", func(b *testing.B) {
				toggle := 0
				spec := cj.DeepCopy()
				benchmarkWrites(b, cj, func() error {
					toggle++
					tp := &spec.Spec.Stages[toggle%len(spec.Spec.Stages)].Touchpoints[0]
					tp.Owner = fmt.Sprintf("Department %d", toggle%2)
					u, err := applyConfiguration(spec)
					if err != nil {
						return err
					}
					b.StartTimer()
					defer b.StopTimer()
					return k8sClient.Apply(ctx, u, client.FieldOwner(gitOpsManager), client.ForceOwnership)
				})
			})
			b.Run("delivery", func(b *testing.B) {
				toggle := 0
				benchmarkWrites(b, cj, func() error {
					toggle++
					patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AnnotationGitHubDelivery: strconv.Itoa(toggle)}}})
					obj := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace, Name: cj.Name}}
					b.StartTimer()
					defer b.StopTimer()
					return k8sClient.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", patch))
				})
			})
		})
	}
}

// gitOpsManager is the field manager of the map's author: Flux's
// kustomize-controller applies manifests with server-side apply.
const gitOpsManager = "kustomize-controller"

// writeBenchJourney applies a 140-touchpoint journey with measures measures
// as GitOps would, and gives it the status the journey reconciler writes:
// scored, its measures read, Ready, with a full history.
func writeBenchJourney(b *testing.B, measures int) *cxv1.CustomerJourney {
	b.Helper()
	ctx := context.Background()
	ns := namespaceFor(b)
	cj := bigJourney(ns, 140, 4)
	if measures > 0 {
		cj = measuredBigJourney(ns, measures)
	}
	u, err := applyConfiguration(cj)
	if err != nil {
		b.Fatal(err)
	}
	if err := k8sClient.Apply(ctx, u, client.FieldOwner(gitOpsManager), client.ForceOwnership); err != nil {
		b.Fatal(err)
	}
	var cur cxv1.CustomerJourney
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), &cur); err != nil {
		b.Fatal(err)
	}
	before := cur.DeepCopy()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	readings := &querySource{values: map[string]float64{}}
	for _, d := range measuresOf(&cur.Spec) {
		readings.values[d.Query] = 4.31
	}
	readMeasures(ctx, readings, &cur, at)
	m := measuredMap(&cur)
	scoreMap(&cur, m, nil)
	// Sixty hourly points: the most history keeps, reached after some
	// weeks of changes.
	for i := 0; i < 60; i++ {
		h := *cur.Status.HealthScore
		*cur.Status.HealthScore = h + int32(i%2)
		recordHistory(&cur, m, nil, at.Add(time.Duration(i)*time.Hour))
		*cur.Status.HealthScore = h
	}
	trackerConnected(&cur.Status.Conditions, cur.Generation)
	conditions.MarkReady(&cur.Status.Conditions, cur.Generation, cxv1.ReasonMapScored, "scored")
	cur.Status.ObservedGeneration = cur.Generation
	if err := patchStatus(ctx, k8sClient, k8sClient, before, &cur, nil, nil); err != nil {
		b.Fatal(err)
	}
	return &cur
}

// applyConfiguration is the journey's map as a manifest to apply: no status,
// no server-set metadata.
func applyConfiguration(cj *cxv1.CustomerJourney) (runtime.ApplyConfiguration, error) {
	manifest := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace, Name: cj.Name}, Spec: cj.Spec}
	raw, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(append(raw[:len(raw)-1], []byte(`,"apiVersion":"cx.cxloop.dev/v1alpha1","kind":"CustomerJourney"}`)...)); err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return client.ApplyConfigurationFromUnstructured(u), nil
}

// benchmarkWrites runs write b.N times (write starts the timer for the
// request alone) and reports the API server's CPU per write and the
// object's size after.
func benchmarkWrites(b *testing.B, cj *cxv1.CustomerJourney, write func() error) {
	b.Helper()
	rc := apiServerREST(b)
	cpuBefore := apiServerCPU(b, rc)
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		if err := write(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := apiServerCPU(b, rc) - cpuBefore
	b.ReportMetric(cpu*1e3/float64(b.N), "apiserver-cpu-ms/op")
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(cxv1.GroupVersion.WithKind("CustomerJourney"))
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(cj), u); err != nil {
		b.Fatal(err)
	}
	raw, _ := u.MarshalJSON()
	mf, _, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "managedFields")
	mfRaw, _ := json.Marshal(mf)
	st, _, _ := unstructured.NestedFieldNoCopy(u.Object, "status")
	stRaw, _ := json.Marshal(st)
	b.ReportMetric(float64(len(raw)), "object-bytes")
	b.ReportMetric(float64(len(mfRaw)), "managedFields-bytes")
	b.ReportMetric(float64(len(stRaw)), "status-bytes")
}

// namespaceFor is namespace for a benchmark.
func namespaceFor(b *testing.B) string {
	b.Helper()
	ns := &unstructured.Unstructured{}
	ns.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	ns.SetGenerateName("cx-bench-")
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		b.Fatal(err)
	}
	return ns.GetName()
}

func apiServerREST(b *testing.B) rest.Interface {
	b.Helper()
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &schema.GroupVersion{}
	c.NegotiatedSerializer = clientgoscheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		b.Fatal(err)
	}
	return rc
}

// apiServerCPU is the API server's CPU time so far, in seconds.
func apiServerCPU(b *testing.B, rc rest.Interface) float64 {
	b.Helper()
	raw, err := rc.Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatal("the API server's /metrics has no process_cpu_seconds_total")
	return 0
}

// profileAPIServer saves the API server's CPU profile over d to path while
// write runs again and again.
func profileAPIServer(b *testing.B, path string, d time.Duration, write func() error) {
	b.Helper()
	rc := apiServerREST(b)
	done := make(chan error, 1)
	go func() {
		raw, err := rc.Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(int(d.Seconds()))).Timeout(d + time.Minute).DoRaw(context.Background())
		if err == nil {
			err = os.WriteFile(path, raw, 0o644)
		}
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				b.Fatal(err)
			}
			return
		default:
		}
		if err := write(); err != nil {
			b.Fatal(err)
		}
	}
}
