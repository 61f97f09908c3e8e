package chart

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestDefaultsCloseTheRest: `helm template` with default values renders a
// NetworkPolicy that lets GitHub reach the webhook from anywhere, only the
// ingress controller's namespace reach the status page and only the
// monitoring namespace reach the metrics, and nothing reach any other port;
// and a status page that authenticates its callers.
func TestDefaultsCloseTheRest(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", nil)
	np := find(t, objs, "NetworkPolicy", "controller-manager")
	if np.GetNamespace() != "cxloop-system" {
		t.Errorf("NetworkPolicy in %q", np.GetNamespace())
	}
	deploy := find(t, objs, "Deployment", "controller-manager")
	podLabels := nested(t, deploy, "spec", "template", "metadata", "labels").(map[string]any)
	sel := nested(t, np, "spec", "podSelector", "matchLabels").(map[string]any)
	for k, v := range sel {
		if podLabels[k] != v {
			t.Errorf("the NetworkPolicy selects %s=%v, the manager's pods have %v", k, v, podLabels[k])
		}
	}
	if got := nested(t, np, "spec", "policyTypes"); !cmp.Equal(got, []any{"Ingress"}) {
		t.Errorf("policyTypes %v: the policy isolates ingress and leaves egress open (documented)", got)
	}
	rules := ingressByPort(t, np)
	containerPorts := map[string]bool{}
	for _, p := range container(t, deploy)["ports"].([]any) {
		containerPorts[p.(map[string]any)["name"].(string)] = true
	}
	for port := range rules {
		if !containerPorts[port] {
			t.Errorf("the NetworkPolicy opens port %q, which the manager's container does not name", port)
		}
	}
	if _, ok := rules["health"]; ok {
		t.Error("the health port is open to the network; kubelet's probes need no rule")
	}
	if from, ok := rules["github-webhook"]; !ok || from != nil {
		t.Errorf("the webhook must be open to anyone (GitHub): from %v", from)
	}
	for port, ns := range map[string]string{"status-page": "ingress-nginx", "metrics": "monitoring"} {
		want := []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}}}}
		if d := cmp.Diff(want, rules[port]); d != "" {
			t.Errorf("%s reachable from (-want +got):\n%s", port, d)
		}
	}

	a := args(t, objs)
	for _, want := range []string{"--status-page-auth=token", "--github-allowed-hosts=api.github.com", "--prometheus-tenant-label=namespace"} {
		if !slices.Contains(a, want) {
			t.Errorf("the manager is not given %s: %v", want, a)
		}
	}
	for _, flag := range []string{"--watch-namespaces", "--status-page-proxy-trusted-cidrs"} {
		if slices.ContainsFunc(a, func(s string) bool { return strings.HasPrefix(s, flag) }) {
			t.Errorf("by default the manager gets no %s: %v", flag, a)
		}
	}
}

// ingressByPort maps each port the policy opens to the peers it is open
// to (nil: anyone).
func ingressByPort(t *testing.T, np *unstructured.Unstructured) map[string]any {
	t.Helper()
	out := map[string]any{}
	rules, _ := nested(t, np, "spec", "ingress").([]any)
	for _, r := range rules {
		r := r.(map[string]any)
		for _, p := range r["ports"].([]any) {
			p := p.(map[string]any)
			if p["protocol"] != "TCP" {
				t.Errorf("port %v: protocol %v", p["port"], p["protocol"])
			}
			out[p["port"].(string)] = r["from"]
		}
	}
	return out
}

func TestNetworkPolicyValues(t *testing.T) {
	page := []any{map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "traefik"}},
		"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "traefik"}},
	}}
	metrics := []any{
		map[string]any{"namespaceSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "team", "operator": "In", "values": []any{"observability"}}}}},
		map[string]any{"ipBlock": map[string]any{"cidr": "192.168.10.0/24"}},
	}
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{"networkPolicy": map[string]any{
		"statusPage": map[string]any{"from": page}, "metrics": map[string]any{"from": metrics},
	}})
	rules := ingressByPort(t, find(t, objs, "NetworkPolicy", "controller-manager"))
	// A list replaces the default whole: nothing of ingress-nginx or
	// monitoring is left.
	if d := cmp.Diff(page, rules["status-page"]); d != "" {
		t.Errorf("status page peers (-want +got):\n%s", d)
	}
	if d := cmp.Diff(metrics, rules["metrics"]); d != "" {
		t.Errorf("metrics peers (-want +got):\n%s", d)
	}

	// An endpoint turned off is not opened; with none, nothing is.
	noPage := ingressByPort(t, find(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{"statusPage": map[string]any{"enabled": false}}), "NetworkPolicy", "controller-manager"))
	if _, ok := noPage["status-page"]; ok || len(noPage) != 2 {
		t.Errorf("with the status page off: %v", noPage)
	}
	closed := find(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"statusPage": map[string]any{"enabled": false}, "githubWebhook": map[string]any{"enabled": false}, "metrics": map[string]any{"enabled": false},
	}), "NetworkPolicy", "controller-manager")
	if got, ok, _ := unstructured.NestedSlice(closed.Object, "spec", "ingress"); !ok || len(got) != 0 {
		t.Errorf("with every endpoint off the policy must refuse all ingress (ingress: []), got %v (present %v)", got, ok)
	}

	if lookup(mustRender(t, "cxloop", "cxloop-system", map[string]any{"networkPolicy": map[string]any{"enabled": false}}), "NetworkPolicy", "") != nil {
		t.Error("networkPolicy.enabled=false")
	}
}

func TestStatusPageAuthValues(t *testing.T) {
	proxy := mustRender(t, "cxloop", "cxloop-system", map[string]any{"statusPage": map[string]any{"auth": map[string]any{
		"mode": "proxy", "proxy": map[string]any{"trustedCIDRs": []any{"10.0.0.0/8", "fd00::/8"}, "userHeader": "X-Auth-Request-User"},
	}}})
	a := args(t, proxy)
	for _, want := range []string{"--status-page-auth=proxy", "--status-page-proxy-trusted-cidrs=10.0.0.0/8,fd00::/8",
		"--status-page-proxy-user-header=X-Auth-Request-User", "--status-page-proxy-groups-header=X-Forwarded-Groups"} {
		if !slices.Contains(a, want) {
			t.Errorf("proxy mode: no %s in %v", want, a)
		}
	}
	none := args(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{"statusPage": map[string]any{"auth": map[string]any{"mode": "none"}}}))
	if !slices.Contains(none, "--status-page-auth=none") {
		t.Errorf("mode none: %v", none)
	}
	off := args(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{"statusPage": map[string]any{"enabled": false}}))
	if slices.ContainsFunc(off, func(s string) bool { return strings.HasPrefix(s, "--status-page-auth") }) {
		t.Errorf("no page, no page auth: %v", off)
	}
	// A proxy whose headers would be trusted from anywhere is refused.
	if _, err := render("cxloop", "cxloop-system", map[string]any{"statusPage": map[string]any{"auth": map[string]any{"mode": "proxy"}}}); err == nil ||
		!strings.Contains(err.Error(), "trustedCIDRs") {
		t.Errorf("proxy mode without trusted CIDRs: %v", err)
	}
}

func TestTenancyValues(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"github":          map[string]any{"allowedHosts": []any{"api.github.com", "github.corp.example:8443"}},
		"prometheus":      map[string]any{"tenantLabel": ""},
		"watchNamespaces": []any{"team-a", "team-b"},
	})
	a := args(t, objs)
	for _, want := range []string{"--github-allowed-hosts=api.github.com,github.corp.example:8443", "--prometheus-tenant-label=", "--watch-namespaces=team-a,team-b"} {
		if !slices.Contains(a, want) {
			t.Errorf("no %s in %v", want, a)
		}
	}
	// Namespaced: a Role and RoleBinding per watched namespace and the
	// manager's own; the ClusterRole keeps only the cluster-scoped reviews.
	var roles []string
	for _, o := range objs {
		if o.GetKind() == "Role" && strings.HasSuffix(o.GetName(), "manager-role") {
			roles = append(roles, o.GetNamespace())
			if lookupIn(objs, "RoleBinding", o.GetNamespace(), "manager-rolebinding") == nil {
				t.Errorf("the Role in %s is not bound", o.GetNamespace())
			}
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"cxloop-system", "team-a", "team-b"}) {
		t.Errorf("manager Roles in %v", roles)
	}
	for _, r := range nested(t, find(t, objs, "ClusterRole", "manager-role"), "rules").([]any) {
		for _, res := range r.(map[string]any)["resources"].([]any) {
			if res != "tokenreviews" && res != "subjectaccessreviews" {
				t.Errorf("the namespaced install grants %v cluster-wide", res)
			}
		}
	}

	// The watched namespace may be the manager's own: one Role with both.
	own := mustRender(t, "cxloop", "team-a", map[string]any{"watchNamespaces": []any{"team-a"}})
	role := lookupIn(own, "Role", "team-a", "manager-role")
	if role == nil {
		t.Fatal("no Role in team-a")
	}
	var verbs []string
	for _, r := range nested(t, role, "rules").([]any) {
		if slices.Contains(r.(map[string]any)["resources"].([]any), any("secrets")) {
			for _, v := range r.(map[string]any)["verbs"].([]any) {
				verbs = append(verbs, v.(string))
			}
		}
	}
	if !slices.Contains(verbs, "get") || !slices.Contains(verbs, "list") {
		t.Errorf("the manager's own namespace, watched: secrets verbs %v", verbs)
	}
}

func lookupIn(objs []*unstructured.Unstructured, kind, namespace, suffix string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && strings.HasSuffix(o.GetName(), suffix) {
			return o
		}
	}
	return nil
}
