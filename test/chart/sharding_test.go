package chart

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func containerArgs(t *testing.T, deploy *unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range container(t, deploy)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// selects reports whether a selector's labels all hold on the pod labels.
func selects(selector, podLabels map[string]any) bool {
	for k, v := range selector {
		if podLabels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// TestShardingValues: sharding.shards runs one Deployment per shard beside
// the main one. Each shard watches the journeys labelled with its name and
// has a leader election Lease of its own; the main one takes the journeys
// without the label and keeps the Lease it had; no Deployment or Service
// of the main manager selects a shard's pods, and shards serve neither the
// status page nor the webhook. Without shards nothing changes (the
// defaults render the installer, TestDefaultsRenderTheInstaller).
func TestShardingValues(t *testing.T) {
	one := mustRender(t, "cxloop", "cxloop-system", nil)
	for _, a := range args(t, one) {
		if strings.HasPrefix(a, "--watch-label-selector") || strings.HasPrefix(a, "--leader-election-id") {
			t.Errorf("without shards the manager takes every journey, yet has %s", a)
		}
	}
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{"sharding": map[string]any{"shards": []any{"shard1", "shard2"}}, "replicas": 2})
	var deployments []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			deployments = append(deployments, o)
		}
	}
	if len(deployments) != 3 {
		t.Fatalf("%d Deployments, want the main one and one per shard", len(deployments))
	}
	main := find(t, objs, "Deployment", "controller-manager")
	if !slices.Contains(args(t, objs), "--watch-label-selector=!sharding.cxloop.dev/key") {
		t.Errorf("the main manager must take the journeys without a shard label: %v", args(t, objs))
	}
	leaseIDs := map[string]string{"main": "cxloop.cx.cxloop.dev"} // the manager's default
	for _, a := range args(t, objs) {
		if strings.HasPrefix(a, "--leader-election-id=") {
			t.Errorf("the main manager keeps its Lease across the change to shards, yet has %s", a)
		}
	}
	mainSelector := nested(t, main, "spec", "selector", "matchLabels").(map[string]any)
	var services []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Service" || o.GetKind() == "PodDisruptionBudget" {
			services = append(services, o)
		}
	}
	for _, shard := range []string{"shard1", "shard2"} {
		d := find(t, objs, "Deployment", "controller-manager-"+shard)
		a := containerArgs(t, d)
		if !slices.Contains(a, "--watch-label-selector=sharding.cxloop.dev/key="+shard) {
			t.Errorf("%s: %v", shard, a)
		}
		if !slices.Contains(a, "--leader-elect") {
			t.Errorf("%s: no leader election", shard)
		}
		for _, x := range a {
			if id, ok := strings.CutPrefix(x, "--leader-election-id="); ok {
				for other, taken := range leaseIDs {
					if taken == id {
						t.Errorf("%s shares the Lease %s with %s: only one of them would run", shard, id, other)
					}
				}
				leaseIDs[shard] = id
			}
			if x == "--status-page-bind-address=:8090" || strings.HasPrefix(x, "--github-webhook-secret") {
				t.Errorf("%s serves what only the main manager's Services reach: %s", shard, x)
			}
		}
		if _, ok := leaseIDs[shard]; !ok {
			t.Errorf("%s has no --leader-election-id of its own", shard)
		}
		if got := nested(t, d, "spec", "replicas"); got != int64(2) {
			t.Errorf("%s: replicas %v", shard, got)
		}
		pods := nested(t, d, "spec", "template", "metadata", "labels").(map[string]any)
		if !selects(nested(t, d, "spec", "selector", "matchLabels").(map[string]any), pods) {
			t.Errorf("%s: its Deployment does not select its own pods", shard)
		}
		if selects(mainSelector, pods) {
			t.Errorf("%s: the main Deployment's selector takes its pods", shard)
		}
		for _, s := range services {
			sel, _, _ := unstructured.NestedMap(s.Object, "spec", "selector")
			if m, ok, _ := unstructured.NestedMap(s.Object, "spec", "selector", "matchLabels"); ok {
				sel = m
			}
			if selects(sel, pods) {
				t.Errorf("%s %s selects the pods of %s", s.GetKind(), s.GetName(), shard)
			}
		}
		for _, p := range container(t, d)["ports"].([]any) {
			if n := p.(map[string]any)["name"]; n == "status-page" || n == "github-webhook" {
				t.Errorf("%s exposes %s", shard, n)
			}
		}
	}
	for name, values := range map[string]map[string]any{
		"a shard name that is no label value": {"sharding": map[string]any{"shards": []any{"Shard_1"}}},
		"the same shard twice":                {"sharding": map[string]any{"shards": []any{"a", "a"}}},
		"a misspelt key":                      {"sharding": map[string]any{"shard": []any{"a"}}},
	} {
		if _, err := render("cxloop", "cxloop-system", values); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}
