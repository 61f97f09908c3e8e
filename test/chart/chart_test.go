package chart

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// helmOnly are the labels and annotations Helm adds (or the chart adds for
// Helm) that mean nothing to the objects themselves; the comparison with the
// installer ignores them.
var helmOnly = []string{
	"helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
	"helm.sh/resource-policy",
}

// installerOnly are objects the installer makes that Helm makes itself:
// `helm install --namespace cxloop-system --create-namespace`.
var installerOnly = []string{"Namespace//cxloop-system"}

// TestDefaultsRenderTheInstaller: with default values the chart renders the
// same objects, field for field, as `make build-installer`.
func TestDefaultsRenderTheInstaller(t *testing.T) {
	chart := byID(normalize(mustRender(t, "cxloop", "cxloop-system", nil)))
	inst := byID(normalize(installerObjects(t)))
	for name, want := range inst {
		if slices.Contains(installerOnly, name) {
			continue
		}
		got, ok := chart[name]
		if !ok {
			t.Errorf("the installer has %s, the chart does not", name)
			continue
		}
		if d := cmp.Diff(want.Object, got.Object); d != "" {
			t.Errorf("%s differs (-installer +chart):\n%s", name, d)
		}
	}
	for name := range chart {
		if _, ok := inst[name]; !ok {
			t.Errorf("the chart renders %s by default, the installer does not", name)
		}
	}
	if len(inst) < 15 {
		t.Errorf("the installer has only %d objects: %v", len(inst), ids(installerObjects(t)))
	}
	t.Logf("compared %d objects", len(chart))
}

// normalize drops what only Helm adds, in place.
func normalize(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	for _, o := range objs {
		strip(o.Object)
	}
	return objs
}

func strip(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range helmOnly {
			delete(v, k)
		}
		for k, child := range v {
			strip(child)
			if m, ok := child.(map[string]any); ok && len(m) == 0 && (k == "labels" || k == "annotations") {
				delete(v, k)
			}
		}
	case []any:
		for _, c := range v {
			strip(c)
		}
	}
}

func nested(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s has no %s (%v)", id(o), strings.Join(path, "."), err)
	}
	return v
}

func container(t *testing.T, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs := nested(t, deploy, "spec", "template", "spec", "containers").([]any)
	return cs[0].(map[string]any)
}

func args(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range container(t, find(t, objs, "Deployment", "controller-manager"))["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

func TestReplicasAndDisruptionBudget(t *testing.T) {
	one := mustRender(t, "cxloop", "cxloop-system", nil)
	if pdb := lookup(one, "PodDisruptionBudget", "controller-manager"); pdb != nil {
		t.Error("a PodDisruptionBudget on one replica blocks every node drain")
	}
	three := mustRender(t, "cxloop", "cxloop-system", map[string]any{"replicas": 3})
	if got := nested(t, find(t, three, "Deployment", "controller-manager"), "spec", "replicas"); got != int64(3) {
		t.Errorf("replicas: %v", got)
	}
	pdb := find(t, three, "PodDisruptionBudget", "controller-manager")
	sel := nested(t, pdb, "spec", "selector", "matchLabels")
	podLabels := nested(t, find(t, three, "Deployment", "controller-manager"), "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range sel.(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("the PodDisruptionBudget selects %s=%v, the pods have %v", k, v, podLabels[k])
		}
	}
	if !slices.Contains(args(t, three), "--leader-elect") {
		t.Error("several replicas without leader election would all work at once")
	}
}

func TestHardening(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", nil)
	c := container(t, find(t, objs, "Deployment", "controller-manager"))
	sc := c["securityContext"].(map[string]any)
	if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
		t.Errorf("container securityContext: %v", sc)
	}
	var tmp bool
	for _, m := range c["volumeMounts"].([]any) {
		tmp = tmp || m.(map[string]any)["mountPath"] == "/tmp"
	}
	if !tmp {
		t.Error("a read-only root filesystem needs a writable /tmp (emptyDir)")
	}
	pod := nested(t, find(t, objs, "Deployment", "controller-manager"), "spec", "template", "spec", "securityContext").(map[string]any)
	if pod["runAsNonRoot"] != true {
		t.Errorf("pod securityContext: %v", pod)
	}
}

func TestMetricsValues(t *testing.T) {
	secure := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true, "interval": "30s"}},
	})
	find(t, secure, "ClusterRole", "metrics-reader")
	find(t, secure, "ClusterRole", "metrics-auth-role")
	find(t, secure, "ClusterRoleBinding", "metrics-auth-rolebinding")
	if a := args(t, secure); !slices.Contains(a, "--metrics-bind-address=:8443") || slices.Contains(a, "--metrics-secure=false") {
		t.Errorf("secure by default: %v", a)
	}
	sm := find(t, secure, "ServiceMonitor", "metrics-monitor")
	ep := nested(t, sm, "spec", "endpoints").([]any)[0].(map[string]any)
	if ep["scheme"] != "https" || ep["port"] != "https" || ep["bearerTokenFile"] == nil || ep["interval"] != "30s" {
		t.Errorf("ServiceMonitor endpoint: %v", ep)
	}
	expectSelects(t, secure, sm, "controller-manager-metrics-service")

	plain := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"metrics": map[string]any{"secure": false, "port": 8080, "serviceMonitor": map[string]any{"enabled": true}},
	})
	if a := args(t, plain); !slices.Contains(a, "--metrics-secure=false") || !slices.Contains(a, "--metrics-bind-address=:8080") {
		t.Errorf("plain HTTP when asked: %v", a)
	}
	if lookup(plain, "ClusterRole", "metrics-auth-role") != nil {
		t.Error("plain HTTP needs no TokenReview rights")
	}
	ep = nested(t, find(t, plain, "ServiceMonitor", "metrics-monitor"), "spec", "endpoints").([]any)[0].(map[string]any)
	if ep["scheme"] != "http" || ep["port"] != "http" || ep["bearerTokenFile"] != nil {
		t.Errorf("ServiceMonitor endpoint for plain HTTP: %v", ep)
	}
	port := nested(t, find(t, plain, "Service", "metrics-service"), "spec", "ports").([]any)[0].(map[string]any)
	if port["name"] != "http" || port["port"] != int64(8080) {
		t.Errorf("metrics Service port: %v", port)
	}

	withCert := mustRender(t, "cxloop", "cxloop-system", map[string]any{"metrics": map[string]any{"certSecret": "cxloop-metrics-tls"}})
	if !slices.Contains(args(t, withCert), "--metrics-cert-path=/etc/cxloop/metrics-certs") {
		t.Errorf("certSecret: %v", args(t, withCert))
	}
}

// expectSelects checks that the monitor selects the named Service and no other.
func expectSelects(t *testing.T, objs []*unstructured.Unstructured, monitor *unstructured.Unstructured, suffix string) {
	t.Helper()
	sel := nested(t, monitor, "spec", "selector", "matchLabels").(map[string]any)
	for _, s := range objs {
		if s.GetKind() != "Service" {
			continue
		}
		matches := true
		for k, v := range sel {
			matches = matches && s.GetLabels()[k] == v
		}
		if want := strings.HasSuffix(s.GetName(), suffix); matches != want {
			t.Errorf("ServiceMonitor selector %v selects %s: %v", sel, s.GetName(), matches)
		}
	}
}

func TestStatusPageAndWebhookAreExposedSeparately(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"statusPage": map[string]any{"ingress": map[string]any{"enabled": true, "className": "internal", "host": "cx.corp.example",
			"annotations": map[string]any{"nginx.ingress.kubernetes.io/auth-url": "https://sso.corp.example/auth"}}},
		"githubWebhook": map[string]any{"ingress": map[string]any{"enabled": true, "className": "public", "host": "hooks.example.com",
			"tls": []any{map[string]any{"secretName": "hooks-tls", "hosts": []any{"hooks.example.com"}}}}},
	})
	page := find(t, objs, "Ingress", "status-page")
	hook := find(t, objs, "Ingress", "github-webhook")
	if nested(t, page, "spec", "ingressClassName") != "internal" || nested(t, hook, "spec", "ingressClassName") != "public" {
		t.Error("each Ingress has its own class")
	}
	if _, ok := hook.GetAnnotations()["nginx.ingress.kubernetes.io/auth-url"]; ok {
		t.Error("the status page's single sign-on must not guard GitHub's deliveries")
	}
	paths := nested(t, hook, "spec", "rules").([]any)[0].(map[string]any)["http"].(map[string]any)["paths"].([]any)
	if len(paths) != 1 || paths[0].(map[string]any)["path"] != "/github/webhook" || paths[0].(map[string]any)["pathType"] != "Exact" {
		t.Errorf("the public Ingress exposes only /github/webhook: %v", paths)
	}
	backend := func(ing *unstructured.Unstructured) string {
		p := nested(t, ing, "spec", "rules").([]any)[0].(map[string]any)["http"].(map[string]any)["paths"].([]any)[0].(map[string]any)
		return p["backend"].(map[string]any)["service"].(map[string]any)["name"].(string)
	}
	if b := backend(hook); b != "cxloop-github-webhook" {
		t.Errorf("webhook Ingress backend %s", b)
	}
	if b := backend(page); b != "cxloop-status-page" {
		t.Errorf("status page Ingress backend %s", b)
	}
	// Each Service reaches only its own port.
	for svc, port := range map[string]string{"status-page": "status-page", "github-webhook": "github-webhook"} {
		ports := nested(t, find(t, objs, "Service", svc), "spec", "ports").([]any)
		if len(ports) != 1 || ports[0].(map[string]any)["targetPort"] != port {
			t.Errorf("Service %s ports: %v", svc, ports)
		}
	}

	off := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"statusPage":    map[string]any{"enabled": false, "ingress": map[string]any{"enabled": true}},
		"githubWebhook": map[string]any{"enabled": false},
	})
	for _, kind := range []string{"Service", "Ingress"} {
		if lookup(off, kind, "status-page") != nil || lookup(off, kind, "github-webhook") != nil {
			t.Errorf("a turned-off endpoint has a %s", kind)
		}
	}
	a := args(t, off)
	if !slices.Contains(a, "--status-page-bind-address=") || !slices.Contains(a, "--github-webhook-bind-address=") {
		t.Errorf("turned-off endpoints are turned off in the manager: %v", a)
	}
}

func TestSecrets(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"githubWebhook":     map[string]any{"secret": map[string]any{"name": "hook", "create": true, "value": "s3cret"}},
		"githubCredentials": map[string]any{"create": true, "namespace": "visitor-experience", "app": map[string]any{"id": 12345, "installationID": "678", "privateKey": "-----BEGIN RSA PRIVATE KEY-----\n..."}},
	})
	hook := find(t, objs, "Secret", "hook")
	if nested(t, hook, "data", "secret") != "czNjcmV0" {
		t.Errorf("webhook Secret data: %v", hook.Object["data"])
	}
	if !slices.Contains(args(t, objs), "--github-webhook-secret=hook") {
		t.Errorf("the manager reads the webhook Secret it is given: %v", args(t, objs))
	}
	creds := find(t, objs, "Secret", "github-credentials")
	if creds.GetLabels()["cx.cxloop.dev/credentials"] != "github" {
		t.Errorf("the credentials Secret lacks the opt-in label cx.cxloop.dev/credentials=github: %v", creds.GetLabels())
	}
	if creds.GetNamespace() != "visitor-experience" {
		t.Errorf("credentials belong in the journeys' namespace, not %q", creds.GetNamespace())
	}
	data := creds.Object["data"].(map[string]any)
	for _, k := range []string{"appID", "installationID", "privateKey"} {
		if data[k] == nil {
			t.Errorf("GitHub App credentials lack %s", k)
		}
	}
	if data["token"] != nil {
		t.Error("both a token and App credentials")
	}
	if data["allowedHosts"] != nil {
		t.Error("allowedHosts when none was given")
	}

	rotating := mustRender(t, "cxloop", "cxloop-system", map[string]any{
		"githubWebhook":     map[string]any{"secret": map[string]any{"create": true, "value": "new", "previousValue": "old"}},
		"githubCredentials": map[string]any{"create": true, "token": "ghp_x", "allowedHosts": []any{"github.corp.example", "github.corp.example:8443"}},
	})
	if d := find(t, rotating, "Secret", "github-webhook").Object["data"].(map[string]any); d["secret"] != "bmV3" || d["previous-secret"] != "b2xk" {
		t.Errorf("rotating webhook Secret data: %v", d)
	}
	if d := find(t, rotating, "Secret", "github-credentials").Object["data"].(map[string]any); d["allowedHosts"] != "Z2l0aHViLmNvcnAuZXhhbXBsZSxnaXRodWIuY29ycC5leGFtcGxlOjg0NDM=" {
		t.Errorf("credentials allowedHosts: %v", d["allowedHosts"])
	}

	if _, err := render("cxloop", "cxloop-system", map[string]any{"githubWebhook": map[string]any{"secret": map[string]any{"create": true}}}); err == nil ||
		!strings.Contains(err.Error(), "githubWebhook.secret.value is required") {
		t.Errorf("creating the webhook Secret without a value: %v", err)
	}
	if _, err := render("cxloop", "cxloop-system", map[string]any{"githubCredentials": map[string]any{"create": true}}); err == nil ||
		!strings.Contains(err.Error(), "give token") {
		t.Errorf("creating credentials without any: %v", err)
	}
}

func TestCRDValues(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", nil)
	crd := find(t, objs, "CustomResourceDefinition", "customerjourneys.cx.cxloop.dev")
	if crd.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
		t.Error("uninstalling the chart must not delete every journey")
	}
	noKeep := mustRender(t, "cxloop", "cxloop-system", map[string]any{"crds": map[string]any{"keep": false}})
	if _, ok := find(t, noKeep, "CustomResourceDefinition", "customerjourneys.cx.cxloop.dev").GetAnnotations()["helm.sh/resource-policy"]; ok {
		t.Error("crds.keep=false")
	}
	none := mustRender(t, "cxloop", "cxloop-system", map[string]any{"crds": map[string]any{"install": false}})
	if lookup(none, "CustomResourceDefinition", "cx.cxloop.dev") != nil {
		t.Error("crds.install=false")
	}
}

func TestLeaderElectionValues(t *testing.T) {
	objs := mustRender(t, "cxloop", "cxloop-system", map[string]any{"leaderElection": map[string]any{"namespace": "kube-leases"}})
	if !slices.Contains(args(t, objs), "--leader-election-namespace=kube-leases") {
		t.Errorf("args: %v", args(t, objs))
	}
	if r := find(t, objs, "Role", "leader-election-role"); r.GetNamespace() != "kube-leases" {
		t.Errorf("the Lease Role is in %q", r.GetNamespace())
	}
	off := mustRender(t, "cxloop", "cxloop-system", map[string]any{"leaderElection": map[string]any{"enabled": false}})
	if slices.Contains(args(t, off), "--leader-elect") || lookup(off, "Role", "leader-election-role") != nil {
		t.Error("leaderElection.enabled=false")
	}
}

// TestSchemaRefusesMistakes: values.schema.json catches typos and wrong
// types before anything reaches the cluster.
func TestSchemaRefusesMistakes(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"replicas as a word":         {"replicas": "three"},
		"a misspelt key":             {"replica": 2},
		"a misspelt nested key":      {"metrics": map[string]any{"secrue": false}},
		"a port out of range":        {"statusPage": map[string]any{"port": 70000}},
		"an argument without dashes": {"extraArgs": []any{"zap-log-level=debug"}},
		"an unknown Service type":    {"githubWebhook": map[string]any{"service": map[string]any{"type": "External"}}},
		"an interval that is a word": {"metrics": map[string]any{"serviceMonitor": map[string]any{"interval": "often"}}},
		"an unknown page auth mode":  {"statusPage": map[string]any{"auth": map[string]any{"mode": "oauth"}}},
		"a trusted proxy address without a prefix length": {"statusPage": map[string]any{"auth": map[string]any{"mode": "proxy",
			"proxy": map[string]any{"trustedCIDRs": []any{"10.0.0.1"}}}}},
		"a proxy trusted from nowhere":         {"statusPage": map[string]any{"auth": map[string]any{"mode": "proxy", "proxy": map[string]any{"trustedCIDRs": []any{}}}}},
		"an allowed host that is a URL":        {"github": map[string]any{"allowedHosts": []any{"https://api.github.com"}}},
		"no allowed host":                      {"github": map[string]any{"allowedHosts": []any{}}},
		"a credentials host with a path":       {"githubCredentials": map[string]any{"allowedHosts": []any{"github.corp.example/api/v3"}}},
		"a tenant label that is no label name": {"prometheus": map[string]any{"tenantLabel": "k8s-namespace"}},
		"a watched namespace that is no name":  {"watchNamespaces": []any{"Team_A"}},
		"a watched namespace twice":            {"watchNamespaces": []any{"team-a", "team-a"}},
		"a misspelt network policy key":        {"networkPolicy": map[string]any{"statusPage": map[string]any{"form": []any{}}}},
		"a status page open to anyone":         {"networkPolicy": map[string]any{"statusPage": map[string]any{"from": []any{}}}},
		"an empty peer (anyone)":               {"networkPolicy": map[string]any{"metrics": map[string]any{"from": []any{map[string]any{}}}}},
		"an unknown selector operator": {"networkPolicy": map[string]any{"metrics": map[string]any{"from": []any{map[string]any{"namespaceSelector": map[string]any{
			"matchExpressions": []any{map[string]any{"key": "team", "operator": "Equals"}}}}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := render("cxloop", "cxloop-system", values); err == nil || !strings.Contains(err.Error(), "schema") {
				t.Errorf("accepted %v: %v", values, err)
			}
		})
	}
}
