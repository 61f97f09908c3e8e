package chart

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestRenderedObjectsApply applies the installer, the chart with default
// values (as a release that takes the installer's objects over) and the
// chart with every option on (as a second release) to a real API server,
// which validates each object against its schema and admission, and fails on
// any warning, such as a pod template the restricted Pod Security Standard
// would refuse.
func TestRenderedObjectsApply(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the chart tests with `make chart-test`, which prepares kube-apiserver and etcd")
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("testdata", "servicemonitor-crd.yaml")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	warnings := &warningRecorder{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandlerWithContext = warnings
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	// The restricted Pod Security Standard warns about any pod template that
	// breaks it (enforcement applies to Pods, which envtest never creates).
	for _, ns := range []string{"cxloop-system", "cx-chart"} {
		ensureNamespace(t, c, ns)
	}

	everything := map[string]any{
		"replicas":       3,
		"leaderElection": map[string]any{"namespace": "cx-chart"},
		"metrics":        map[string]any{"certSecret": "cx-metrics-tls", "serviceMonitor": map[string]any{"enabled": true, "interval": "1m", "labels": map[string]any{"release": "prometheus"}}},
		"statusPage": map[string]any{"service": map[string]any{"type": "NodePort"}, "auth": map[string]any{"mode": "proxy", "proxy": map[string]any{"trustedCIDRs": []any{"10.0.0.0/8"}}},
			"ingress": map[string]any{"enabled": true, "className": "internal", "host": "cx.corp.example", "tls": []any{map[string]any{"secretName": "cx-tls", "hosts": []any{"cx.corp.example"}}}}},
		"githubWebhook": map[string]any{"secret": map[string]any{"name": "hook", "create": true, "value": "s3cret"},
			"ingress": map[string]any{"enabled": true, "className": "public", "host": "hooks.example.com"}},
		"githubCredentials": map[string]any{"create": true, "token": "ghp_notARealToken", "allowedHosts": []any{"api.github.com"}},
		"extraArgs":         []any{"--zap-log-level=debug"},
		"podAnnotations":    map[string]any{"example.com/team": "cx"},
		"nodeSelector":      map[string]any{"kubernetes.io/os": "linux"},
		"tolerations":       []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}},
		"priorityClassName": "system-cluster-critical",
		"watchNamespaces":   []any{"cx-chart"},
		"sharding":          map[string]any{"shards": []any{"shard1", "shard2"}},
		"networkPolicy": map[string]any{"statusPage": map[string]any{"from": []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress"}},
			"podSelector": map[string]any{"matchLabels": map[string]any{"app": "ingress"}}}, map[string]any{"ipBlock": map[string]any{"cidr": "10.1.0.0/16"}}}}},
		"image": map[string]any{"tag": "v0.1.0", "pullPolicy": "IfNotPresent"},
	}
	for _, step := range []struct {
		name string
		objs []*unstructured.Unstructured
	}{
		{"make build-installer", installerObjects(t)},
		{"chart defaults", mustRender(t, "cxloop", "cxloop-system", nil)},
		{"chart with every option", mustRender(t, "cx", "cx-chart", everything)},
	} {
		t.Run(step.name, func(t *testing.T) {
			warnings.reset()
			apply(t, c, step.objs, step.name)
			for _, w := range warnings.all() {
				t.Errorf("the API server warned: %s", w)
			}
		})
	}
}

// ensureNamespace creates a namespace that warns about pod templates the
// restricted Pod Security Standard refuses.
func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name":   name,
		"labels": map[string]any{"pod-security.kubernetes.io/warn": "restricted"},
	}}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// apply server-side applies the objects as kubectl apply --server-side
// would: Namespaces and CRDs first, then the rest once the CRDs serve.
func apply(t *testing.T, c client.Client, objs []*unstructured.Unstructured, owner string) {
	t.Helper()
	ctx := context.Background()
	first := func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition"
	}
	for _, pass := range []bool{true, false} {
		for _, o := range objs {
			if first(o) != pass {
				continue
			}
			if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner(fieldOwner(owner)), client.ForceOwnership); err != nil {
				t.Errorf("applying %s: %v", id(o), err)
			}
		}
		if pass {
			for _, o := range objs {
				if o.GetKind() == "CustomResourceDefinition" {
					waitEstablished(t, c, o.GetName())
				}
			}
		}
	}
	// Everything is there, as rendered.
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			t.Errorf("%s after apply: %v", id(o), err)
		}
	}
}

// warningRecorder keeps the API server's warnings (Warning headers).
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warningRecorder) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = nil
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func fieldOwner(step string) string {
	out := []rune{}
	for _, r := range step {
		if r == ' ' {
			r = '-'
		}
		out = append(out, r)
	}
	return string(out)
}

func waitEstablished(t *testing.T, c client.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, &crd); err == nil {
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s never established", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
