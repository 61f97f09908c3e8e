package controllers

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

func TestWatchNamespacesFlag(t *testing.T) {
	for _, c := range []struct {
		name, flag string
		want       []string // nil: every namespace
		err        string
	}{
		{name: "empty watches every namespace", flag: ""},
		{name: "only separators", flag: " , ,"},
		{name: "one", flag: "team-a", want: []string{"team-a"}},
		{name: "spaces and a repeat", flag: " team-a, team-b ,team-a", want: []string{"team-a", "team-b"}},
		{name: "not a namespace name", flag: "team-a,Team_B", err: `--watch-namespaces: "Team_B" is not a namespace name`},
		{name: "too long", flag: strings.Repeat("a", 64), err: "--watch-namespaces"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := CacheOptions()
			err := WatchNamespaces(&o, c.flag)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for ns := range o.DefaultNamespaces {
				got = append(got, ns)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) || (c.want == nil) != (o.DefaultNamespaces == nil) {
				t.Errorf("watched %v, want %v", got, c.want)
			}
		})
	}
}

// The manager's cache, as --watch-namespaces configures it, holds the
// journeys of the watched namespaces only, and of their Secrets only those
// opted in as GitHub credentials: a journey naming any other Secret finds
// nothing to send.
func TestCacheHoldsOnlyWatchedNamespacesAndCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched, other := namespace(t), namespace(t)
	for _, ns := range []string{watched, other} {
		if err := k8sClient.Create(ctx, sampleJourney(t, ns)); err != nil {
			t.Fatal(err)
		}
		for name, lbls := range map[string]map[string]string{
			"github-credentials": {"cx.cxloop.dev/credentials": "github"},
			"not-for-github":     {"cx.cxloop.dev/credentials": "gitlab"},
			"database-password":  nil,
		} {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}, StringData: map[string]string{"token": "x"}}
			if err := k8sClient.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name, flag string
		journeys   []string // namespaces
		secrets    []string // namespace/name
	}{
		{"every namespace", "", []string{watched, other}, []string{watched + "/github-credentials", other + "/github-credentials"}},
		{"one namespace", watched, []string{watched}, []string{watched + "/github-credentials"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := CacheOptions()
			if err := WatchNamespaces(&o, c.flag); err != nil {
				t.Fatal(err)
			}
			o.Scheme = scheme
			ca, err := cache.New(cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = ca.Start(ctx) }()
			if !ca.WaitForCacheSync(ctx) {
				t.Fatal("cache never synced")
			}
			var journeys cxv1.CustomerJourneyList
			if err := ca.List(ctx, &journeys); err != nil {
				t.Fatal(err)
			}
			var gotJ []string
			for _, j := range journeys.Items {
				if j.Namespace == watched || j.Namespace == other {
					gotJ = append(gotJ, j.Namespace)
				}
			}
			var secrets corev1.SecretList
			if err := ca.List(ctx, &secrets); err != nil {
				t.Fatal(err)
			}
			var gotS []string
			for _, s := range secrets.Items {
				if s.Namespace == watched || s.Namespace == other {
					gotS = append(gotS, s.Namespace+"/"+s.Name)
				}
			}
			slices.Sort(gotJ)
			slices.Sort(gotS)
			want := func(l []string) []string { l = slices.Clone(l); slices.Sort(l); return l }
			if !slices.Equal(gotJ, want(c.journeys)) {
				t.Errorf("journeys in %v, want %v", gotJ, want(c.journeys))
			}
			if !slices.Equal(gotS, want(c.secrets)) {
				t.Errorf("Secrets %v, want %v", gotS, want(c.secrets))
			}
			// A Secret without the opt-in is not found, whoever names it.
			var s corev1.Secret
			if err := ca.Get(ctx, client.ObjectKey{Namespace: watched, Name: "database-password"}, &s); err == nil {
				t.Error("the cache holds a Secret without the credentials label")
			}
		})
	}
}
