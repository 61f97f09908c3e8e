package controllers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/review"
)

// catalogueDir holds one manifest per mistake a platform engineer makes
// with a CustomerJourney or an ImprovementPhase. The first line of each
// says what must come of it:
//
//	# refused: FIELD          the API server refuses it, naming FIELD
//	# stalled: REASON FIELD   the API server takes it and cxloop marks it
//	                          Stalled with REASON, naming FIELD
//	# waiting: REASON FIELD   the API server takes it and cxloop says, with
//	                          Ready=False and Reconciling (not Stalled: an
//	                          object still to come can heal it), REASON,
//	                          naming FIELD
//
// A file may hold several documents: the earlier ones are what the mistake
// needs (the other phase of a cycle, another journey) and must be accepted;
// the expectation is about the last one.
const catalogueDir = "../testdata/invalid"

type mistake struct {
	file    string
	objs    []*unstructured.Unstructured
	refused bool
	waiting bool
	reason  string
	field   string
}

func (m mistake) name() string { return strings.TrimSuffix(filepath.Base(m.file), ".yaml") }
func (m mistake) last() *unstructured.Unstructured {
	return m.objs[len(m.objs)-1]
}

func readCatalogue(t *testing.T) []mistake {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(catalogueDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue in %s: %v", catalogueDir, err)
	}
	var out []mistake
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := mistake{file: file}
		first, _, _ := strings.Cut(string(raw), "\n")
		switch f := strings.Fields(first); {
		case len(f) == 3 && f[0] == "#" && f[1] == "refused:":
			m.refused, m.field = true, f[2]
		case len(f) == 4 && f[0] == "#" && (f[1] == "stalled:" || f[1] == "waiting:"):
			m.reason, m.field, m.waiting = f[2], f[3], f[1] == "waiting:"
		default:
			t.Fatalf("%s: the first line must be `# refused: FIELD`, `# stalled: REASON FIELD` or `# waiting: REASON FIELD`, not %q", file, first)
		}
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			js, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(js); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			m.objs = append(m.objs, u)
		}
		out = append(out, m)
	}
	return out
}

// TestCatalogueOfMistakes applies every mistake of the catalogue to one
// namespace: the API server refuses each it can tell, naming the field,
// and cxloop marks the rest Stalled, naming the field. Then the operator
// survives its users' mistakes: everything the API server took decodes,
// and a valid journey and its phases in the same namespace become Ready.
func TestCatalogueOfMistakes(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	catalogue := readCatalogue(t)
	refused, stalled, waiting := 0, 0, 0
	for _, m := range catalogue {
		switch {
		case m.refused:
			refused++
		case m.waiting:
			waiting++
		default:
			stalled++
		}
	}
	if len(catalogue) < 30 {
		t.Fatalf("the catalogue holds %d mistakes; issue #9 asks for at least 30", len(catalogue))
	}
	t.Logf("catalogue: %d mistakes, %d refused at admission, %d stalled by cxloop, %d waiting for what they name", len(catalogue), refused, stalled, waiting)

	// Applied before cxloop starts, so that its informers' first list holds
	// every object the API server took.
	accepted := 0
	for _, m := range catalogue {
		t.Run("apply/"+m.name(), func(t *testing.T) {
			for _, o := range m.objs {
				o.SetNamespace(ns)
			}
			for _, o := range m.objs[:len(m.objs)-1] {
				if err := k8sClient.Create(ctx, o); err != nil {
					t.Fatalf("the %s %s this mistake needs was refused: %v", o.GetKind(), o.GetName(), err)
				}
				accepted++
			}
			err := k8sClient.Create(ctx, m.last())
			if err == nil {
				accepted++
			}
			if !m.refused {
				if err != nil {
					t.Fatalf("refused, but only cxloop can tell what is wrong (%s): %v", m.reason, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("the API server accepted the mistake; want it refused naming %s", m.field)
			}
			if err := refusalNames(err, m.field); err != nil {
				t.Fatal(err)
			}
			t.Log(err)
		})
	}

	// Everything the API server took decodes into cxloop's types.
	var journeys cxv1.CustomerJourneyList
	var phases cxv1.ImprovementPhaseList
	if err := k8sClient.List(ctx, &journeys, client.InNamespace(ns)); err != nil {
		t.Fatalf("the accepted journeys do not decode: %v", err)
	}
	if err := k8sClient.List(ctx, &phases, client.InNamespace(ns)); err != nil {
		t.Fatalf("the accepted phases do not decode: %v", err)
	}
	if got := len(journeys.Items) + len(phases.Items); got != accepted {
		t.Fatalf("%d objects listed, %d accepted", got, accepted)
	}

	gh := githubServer(t)
	startCxloop(t)
	cj := trackedJourney(t, ns, gh)
	samples := samplePhases(t, ns)
	for _, ph := range samples {
		if err := k8sClient.Create(ctx, ph); err != nil {
			t.Fatal(err)
		}
	}

	for _, m := range catalogue {
		if m.refused {
			continue
		}
		if m.waiting {
			t.Run("waiting/"+m.name(), func(t *testing.T) {
				g := eventually(t)
				key := client.ObjectKey{Namespace: ns, Name: m.last().GetName()}
				g.Eventually(func(g Gomega) {
					conds := conditionsOf(g, m.last().GetKind(), key)
					ready := meta.FindStatusCondition(conds, cxv1.ConditionReady)
					g.Expect(ready).NotTo(BeNil(), "conditions: %v", conds)
					g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
					g.Expect(ready.Reason).To(Equal(m.reason))
					g.Expect(ready.Message).To(ContainSubstring(m.field))
					g.Expect(meta.IsStatusConditionTrue(conds, cxv1.ConditionReconciling)).To(BeTrue(), "conditions: %v", conds)
					g.Expect(meta.FindStatusCondition(conds, cxv1.ConditionStalled)).To(BeNil(), "not Stalled: it can heal")
				}).Should(Succeed())
			})
			continue
		}
		t.Run("stalled/"+m.name(), func(t *testing.T) {
			g := eventually(t)
			key := client.ObjectKey{Namespace: ns, Name: m.last().GetName()}
			var last metav1.Condition
			g.Eventually(func(g Gomega) {
				conds := conditionsOf(g, m.last().GetKind(), key)
				stalledCond := meta.FindStatusCondition(conds, cxv1.ConditionStalled)
				g.Expect(stalledCond).NotTo(BeNil(), "conditions: %v", conds)
				last = *stalledCond
				g.Expect(stalledCond.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(stalledCond.Reason).To(Equal(m.reason))
				g.Expect(stalledCond.Message).To(ContainSubstring(m.field))
				g.Expect(meta.IsStatusConditionFalse(conds, cxv1.ConditionReady)).To(BeTrue(), "Ready must be False while Stalled")
			}).Should(Succeed(), "last Stalled condition: %+v", last)
		})
	}

	// The survival check: a valid journey and its phases, in the namespace
	// of every mistake above, become Ready.
	g := eventually(t)
	g.Eventually(func(g Gomega) {
		var got cxv1.CustomerJourney
		c := readyCondition(g, client.ObjectKeyFromObject(cj), &got)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		g.Expect(got.Status.ActivePhase).To(Equal("nature-park-discovery"))
	}).Should(Succeed())
	for _, ph := range samples {
		g.Eventually(func(g Gomega) {
			var got cxv1.ImprovementPhase
			c := readyCondition(g, client.ObjectKeyFromObject(ph), &got)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", ph.Name, c.Message)
		}).Should(Succeed())
	}
	g.Eventually(func(g Gomega) {
		g.Expect(getPhase(g, ns, "nature-park-discovery").Status.State).To(Equal(cxv1.PhaseActive))
		g.Expect(issuesOf(gh, "phase:discovery")).NotTo(BeEmpty())
	}).Should(Succeed())
}

// refusalNames checks that err is the API server's refusal of one mistake:
// Invalid, its message naming field, and every cause about that field.
func refusalNames(err error, field string) error {
	if !apierrors.IsInvalid(err) {
		return fmt.Errorf("want an Invalid error naming %s, got %v", field, err)
	}
	if !strings.Contains(err.Error(), field) {
		return fmt.Errorf("the refusal does not name %s: %v", field, err)
	}
	if strings.Contains(err.Error(), "evaluat") {
		return fmt.Errorf("a rule failed to evaluate instead of saying what is wrong: %v", err)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Details != nil {
		for _, c := range status.Status().Details.Causes {
			// Rules on the whole object, and the note that some rules were
			// skipped because of the error, have no field.
			if c.Field == "" || c.Field == "<nil>" {
				continue
			}
			if !strings.HasPrefix(c.Field, fieldBase(field)) && !strings.HasPrefix(fieldBase(field), c.Field) {
				return fmt.Errorf("the manifest has another mistake than %s: %s: %s", field, c.Field, c.Message)
			}
		}
	}
	return nil
}

// fieldBase drops the list markers of a field named in a CEL message
// ("spec.stages[].touchpoints[].experiences[].persona" is reported at spec.stages).
func fieldBase(field string) string {
	if i := strings.Index(field, "[]"); i >= 0 {
		return field[:i]
	}
	return field
}

func conditionsOf(g Gomega, kind string, key client.ObjectKey) []metav1.Condition {
	switch kind {
	case "CustomerJourney":
		var cj cxv1.CustomerJourney
		g.Expect(k8sClient.Get(context.Background(), key, &cj)).To(Succeed())
		return cj.Status.Conditions
	case "ImprovementPhase":
		var ph cxv1.ImprovementPhase
		g.Expect(k8sClient.Get(context.Background(), key, &ph)).To(Succeed())
		return ph.Status.Conditions
	}
	g.Expect(kind).To(BeElementOf("CustomerJourney", "ImprovementPhase"))
	return nil
}

// TestAdmissionAgreesWithGo: the rules added so that the API server refuses
// what cxloop's Go code would refuse later must not refuse what it takes.
// Each value is tried at admission and in Go; admission may only refuse
// what Go refuses too.
func TestAdmissionAgreesWithGo(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	n := 0
	create := func(obj client.Object) error {
		n++
		obj.SetName(fmt.Sprintf("agree-%d", n))
		obj.SetNamespace(ns)
		return k8sClient.Create(ctx, obj)
	}
	check := func(t *testing.T, field, value string, goErr, admErr error) {
		t.Helper()
		verdict := func(err error) string {
			if err != nil {
				return "refuses"
			}
			return "takes"
		}
		t.Logf("%s %q: Go %s it, admission %s it", field, value, verdict(goErr), verdict(admErr))
		if admErr != nil && strings.Contains(admErr.Error(), "evaluat") {
			t.Errorf("%s %q: a rule failed to evaluate instead of saying what is wrong: %v", field, value, admErr)
		}
		switch {
		case goErr == nil && admErr != nil:
			t.Errorf("%s %q: Go takes it, the API server refuses it: %v", field, value, admErr)
		case admErr != nil && !strings.Contains(admErr.Error(), field):
			t.Errorf("%s %q: the refusal does not name the field: %v", field, value, admErr)
		}
	}

	for _, schedule := range []string{
		"@yearly", "@annually", "@quarterly", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
		"@every 168h", "@every 1m", "@every 1h30m", "@every 1.5h", "@every 59s", "@every 0s", "@every -1h", "@every forever",
		"0 9 * * 1", "0 9 * * MON", "0 9 * * mon-fri", "*/15 9-17 * * 1-5", "0 0 1 JAN,APR,JUL,OCT *", "0 9 1-7 * 1", "0   9 * *  1",
		"0 9 ? * 1", "0 0 29 2 *", "0 9 * * 7", "0 0 31 2 *", "60 9 * * 1", "0 9 * *", "0 0 9 * * 1", "@Weekly", "@every", "weekly",
		"TZ=UTC 0 9 * * 1", "H 9 * * 1",
	} {
		_, goErr := review.Parse(schedule, "")
		cj := sampleJourney(t, ns)
		cj.Spec.Review.Schedule = schedule
		check(t, "spec.review.schedule", schedule, goErr, create(cj))
	}
	for _, zone := range []string{"Europe/Amsterdam", "America/Argentina/Buenos_Aires", "Etc/GMT+12", "Etc/GMT-14", "UTC", "EST5EDT", "Local", "+01:00", "Europe/Amsterdan", "UTC+1"} {
		_, goErr := review.Parse("@weekly", zone)
		cj := sampleJourney(t, ns)
		cj.Spec.Review.TimeZone = &zone
		check(t, "spec.review.timeZone", zone, goErr, create(cj))
	}
	for _, deadline := range []string{"2027-12-31", "2028-02-29", "2000-02-29", "2027-04-30", "2027-02-29", "2100-02-29", "2027-04-31", "2027-02-30", "2027-13-01", "2027-00-10", "27-12-31"} {
		_, goErr := time.Parse(time.DateOnly, deadline)
		ph := samplePhases(t, ns)[0]
		ph.Spec.Deadline = deadline
		check(t, "spec.deadline", deadline, goErr, create(ph))
	}
	for _, interval := range []string{"1s", "5m", "1h30m", "24h", "1.5h", "90s", "500ms", "0s", "25h", "-5m", "5 m", "1d", "5M"} {
		d, goErr := time.ParseDuration(interval)
		if goErr == nil && (d < time.Second || d > 24*time.Hour) {
			goErr = fmt.Errorf("%s is outside 1s..24h", d)
		}
		ph := samplePhases(t, ns)[0]
		ph.Spec.SyncInterval = &metav1.Duration{Duration: d}
		// Sent as written, as kubectl would, not as Go would format it.
		u, err := toUnstructured(ph)
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(u.Object, interval, "spec", "syncInterval")
		check(t, "spec.syncInterval", interval, goErr, create(u))
	}
}

func toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// TestStatusDecodesWhateverIsWritten: the status is cxloop's to write, but
// anyone allowed to write the status subresource could put a time there
// that Go cannot decode, which would break cxloop's informer for every
// object. The API server refuses it.
func TestStatusDecodesWhateverIsWritten(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	ph := samplePhases(t, ns)[0]
	if err := k8sClient.Create(ctx, ph); err != nil {
		t.Fatal(err)
	}
	for field, value := range map[string]any{
		"startedAt":    "yesterday",
		"lastSyncTime": "2026-11-30 09:00",
		"state":        "Running",
	} {
		u, err := toUnstructured(ph)
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(u.Object, value, "status", field)
		err = k8sClient.Status().Update(ctx, u)
		if err == nil {
			t.Errorf("status.%s %q was accepted", field, value)
			continue
		}
		if err := refusalNames(err, "status."+field); err != nil {
			t.Error(err)
		}
	}
	var list cxv1.ImprovementPhaseList
	if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("the phases no longer decode: %v", err)
	}
}
