package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// install is one way of installing cxloop whose manager's rights are checked.
type install struct {
	name       string
	objs       []*unstructured.Unstructured
	namespace  string // of the manager and its ServiceAccount
	sa         string
	namespaced bool // installed with watchNamespaces: team-a, team-b
}

// canI is one `kubectl auth can-i --as=<the manager's ServiceAccount>`.
// Namespace "own" is the manager's namespace, "" all namespaces (or a
// cluster-scoped resource); team-a is watched in the namespaced install,
// team-c is not.
type canI struct {
	verb, group, resource, subresource, namespace string
	// Allowed in the cluster-wide installs (installer, chart defaults) and
	// in the namespaced one.
	cluster, namespaced bool
}

// rbacTable is what the manager may do, and a selection of what it must not.
// Every right the installs grant the manager must appear here as allowed
// (TestManagerRBAC checks it), so that a new right is a decision in review.
var rbacTable = []canI{
	// Journeys: read, and patched by the webhook (an annotation); never
	// updated, created or deleted.
	{"get", "cx.cxloop.dev", "customerjourneys", "", "team-a", true, true},
	{"list", "cx.cxloop.dev", "customerjourneys", "", "team-a", true, true},
	{"watch", "cx.cxloop.dev", "customerjourneys", "", "team-a", true, true},
	{"patch", "cx.cxloop.dev", "customerjourneys", "", "team-a", true, true},
	{"update", "cx.cxloop.dev", "customerjourneys", "", "team-a", false, false},
	{"create", "cx.cxloop.dev", "customerjourneys", "", "team-a", false, false},
	{"delete", "cx.cxloop.dev", "customerjourneys", "", "team-a", false, false},
	{"deletecollection", "cx.cxloop.dev", "customerjourneys", "", "team-a", false, false},
	{"get", "cx.cxloop.dev", "customerjourneys", "", "team-b", true, true},
	{"get", "cx.cxloop.dev", "customerjourneys", "", "team-c", true, false},
	{"patch", "cx.cxloop.dev", "customerjourneys", "", "team-c", true, false},
	{"list", "cx.cxloop.dev", "customerjourneys", "", "", true, false},
	{"watch", "cx.cxloop.dev", "customerjourneys", "", "", true, false},
	{"patch", "cx.cxloop.dev", "customerjourneys", "status", "team-a", true, true},
	{"update", "cx.cxloop.dev", "customerjourneys", "status", "team-a", false, false},
	{"get", "cx.cxloop.dev", "customerjourneys", "status", "team-a", false, false},
	{"patch", "cx.cxloop.dev", "customerjourneys", "status", "team-c", true, false},
	// Phases: read; only their status is written.
	{"get", "cx.cxloop.dev", "improvementphases", "", "team-a", true, true},
	{"list", "cx.cxloop.dev", "improvementphases", "", "team-a", true, true},
	{"watch", "cx.cxloop.dev", "improvementphases", "", "team-a", true, true},
	{"patch", "cx.cxloop.dev", "improvementphases", "", "team-a", false, false},
	{"update", "cx.cxloop.dev", "improvementphases", "", "team-a", false, false},
	{"create", "cx.cxloop.dev", "improvementphases", "", "team-a", false, false},
	{"delete", "cx.cxloop.dev", "improvementphases", "", "team-a", false, false},
	{"list", "cx.cxloop.dev", "improvementphases", "", "", true, false},
	{"watch", "cx.cxloop.dev", "improvementphases", "", "team-c", true, false},
	{"patch", "cx.cxloop.dev", "improvementphases", "status", "team-a", true, true},
	{"update", "cx.cxloop.dev", "improvementphases", "status", "team-a", false, false},
	{"patch", "cx.cxloop.dev", "improvementphases", "status", "team-c", true, false},
	// Events on journeys and phases (events.k8s.io), and the leader
	// election's core/v1 Events on its Lease.
	{"create", "events.k8s.io", "events", "", "team-a", true, true},
	{"patch", "events.k8s.io", "events", "", "team-a", true, true},
	{"create", "events.k8s.io", "events", "", "team-c", true, false},
	{"get", "events.k8s.io", "events", "", "team-a", false, false},
	{"delete", "events.k8s.io", "events", "", "team-a", false, false},
	{"create", "", "events", "", "own", true, true},
	{"patch", "", "events", "", "own", true, true},
	{"create", "", "events", "", "team-a", false, false},
	// Credentials Secrets: listed and watched by the label-selected cache,
	// never fetched by name; in the namespaced install only where watched.
	{"list", "", "secrets", "", "team-a", true, true},
	{"watch", "", "secrets", "", "team-a", true, true},
	{"get", "", "secrets", "", "team-a", false, false},
	{"create", "", "secrets", "", "team-a", false, false},
	{"update", "", "secrets", "", "team-a", false, false},
	{"patch", "", "secrets", "", "team-a", false, false},
	{"delete", "", "secrets", "", "team-a", false, false},
	{"list", "", "secrets", "", "team-b", true, true},
	{"list", "", "secrets", "", "team-c", true, false},
	{"watch", "", "secrets", "", "team-c", true, false},
	{"get", "", "secrets", "", "team-c", false, false},
	{"list", "", "secrets", "", "", true, false},
	// The manager's own Secrets: the webhook secret, Prometheus's credentials.
	{"get", "", "secrets", "", "own", true, true},
	{"list", "", "secrets", "", "own", true, true},
	{"watch", "", "secrets", "", "own", true, true},
	{"update", "", "secrets", "", "own", false, false},
	{"delete", "", "secrets", "", "own", false, false},
	// The leader's Lease.
	{"get", "coordination.k8s.io", "leases", "", "own", true, true},
	{"create", "coordination.k8s.io", "leases", "", "own", true, true},
	{"update", "coordination.k8s.io", "leases", "", "own", true, true},
	{"patch", "coordination.k8s.io", "leases", "", "own", false, false},
	{"delete", "coordination.k8s.io", "leases", "", "own", false, false},
	{"list", "coordination.k8s.io", "leases", "", "own", false, false},
	{"get", "coordination.k8s.io", "leases", "", "team-a", false, false},
	// Who calls the status page (and the metrics), and what they may see.
	{"create", "authentication.k8s.io", "tokenreviews", "", "", true, true},
	{"create", "authorization.k8s.io", "subjectaccessreviews", "", "", true, true},
	// Nothing else.
	{"get", "", "configmaps", "", "own", false, false},
	{"list", "", "pods", "", "team-a", false, false},
	{"list", "", "namespaces", "", "", false, false},
	{"create", "", "serviceaccounts", "token", "own", false, false},
	{"impersonate", "", "serviceaccounts", "", "team-a", false, false},
	{"update", "apps", "deployments", "", "own", false, false},
	{"create", "apiextensions.k8s.io", "customresourcedefinitions", "", "", false, false},
	{"delete", "apiextensions.k8s.io", "customresourcedefinitions", "", "", false, false},
	{"create", "rbac.authorization.k8s.io", "rolebindings", "", "team-a", false, false},
	{"escalate", "rbac.authorization.k8s.io", "clusterroles", "", "", false, false},
	{"bind", "rbac.authorization.k8s.io", "clusterroles", "", "", false, false},
	{"create", "networking.k8s.io", "networkpolicies", "", "own", false, false},
	{"delete", "networking.k8s.io", "networkpolicies", "", "own", false, false},
	{"get", "", "nodes", "proxy", "", false, false},
	{"*", "*", "*", "", "team-a", false, false},
}

// TestManagerRBAC applies the installer, the chart with default values and
// the chart with watchNamespaces to a real API server (RBAC authorization,
// as envtest runs it) and asks it, with a SubjectAccessReview per line of
// rbacTable, what each install's manager ServiceAccount may do: `kubectl
// auth can-i --as=system:serviceaccount:<namespace>:<name>`.
func TestManagerRBAC(t *testing.T) {
	ctx := context.Background()
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("testdata", "servicemonitor-crd.yaml")}, ErrorIfCRDPathMissing: true}
	// envtest's default, made explicit: the lines denied in the table are
	// denied by RBAC, not by the absence of any authorizer.
	env.ControlPlane.GetAPIServer().Configure().Set("authorization-mode", "RBAC")
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the chart tests with `make chart-test`, which prepares kube-apiserver and etcd")
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"cxloop-system", "cx-all", "cx-ns", "team-a", "team-b", "team-c"} {
		ensureNamespace(t, c, ns)
	}
	installs := []install{
		{name: "make build-installer", objs: installerObjects(t), namespace: "cxloop-system", sa: "cxloop-controller-manager"},
		{name: "chart defaults", objs: mustRender(t, "cx", "cx-all", nil), namespace: "cx-all", sa: "cx-cxloop-controller-manager"},
		{name: "chart with watchNamespaces", objs: mustRender(t, "tenants", "cx-ns", map[string]any{"watchNamespaces": []any{"team-a", "team-b"}}),
			namespace: "cx-ns", sa: "tenants-cxloop-controller-manager", namespaced: true},
	}
	for _, in := range installs {
		apply(t, c, in.objs, in.name)
	}
	if t.Failed() {
		t.FailNow()
	}

	for _, in := range installs {
		t.Run(in.name, func(t *testing.T) {
			review := func(q canI) (bool, string) {
				ns := q.namespace
				if ns == "own" {
					ns = in.namespace
				}
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   "system:serviceaccount:" + in.namespace + ":" + in.sa,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + in.namespace, "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: ns, Verb: q.verb, Group: q.group, Resource: q.resource, Subresource: q.subresource,
					},
				}}
				if err := c.Create(ctx, sar); err != nil {
					t.Fatal(err)
				}
				return sar.Status.Allowed, sar.Status.Reason
			}
			want := func(q canI) bool {
				if in.namespaced {
					return q.namespaced
				}
				return q.cluster
			}
			// RBAC's authorizer reads Roles and bindings from an informer:
			// wait until every allowed line is allowed, then check the rest.
			deadline := time.Now().Add(30 * time.Second)
			for _, q := range rbacTable {
				if !want(q) {
					continue
				}
				for {
					ok, reason := review(q)
					if ok {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("can-i %s: no, want yes (%s)", q, reason)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			allowed, denied := 0, 0
			for _, q := range rbacTable {
				ok, reason := review(q)
				if ok != want(q) {
					t.Errorf("can-i %s: %v, want %v (%s)", q, yesNo(ok), yesNo(want(q)), reason)
				}
				if ok {
					allowed++
				} else {
					denied++
				}
			}
			t.Logf("%d allowed, %d denied, as in the table", allowed, denied)

			// Every right the install grants its manager is a line of the
			// table, allowed there.
			for _, r := range grantedRights(t, in) {
				if !slices.ContainsFunc(rbacTable, func(q canI) bool { return want(q) && q.covers(r, in.namespace) }) {
					t.Errorf("%s grants its manager %s, which rbacTable does not list as allowed", in.name, r)
				}
			}
		})
	}
}

func (q canI) String() string {
	res := q.resource
	if q.group != "" {
		res += "." + q.group
	}
	if q.subresource != "" {
		res += " --subresource=" + q.subresource
	}
	switch q.namespace {
	case "":
		return fmt.Sprintf("%s %s -A", q.verb, res)
	default:
		return fmt.Sprintf("%s %s -n %s", q.verb, res, q.namespace)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// right is one verb on one resource a Role or ClusterRole grants, where.
type right struct {
	verb, group, resource, namespace string // namespace "" for a ClusterRole
}

func (r right) String() string {
	return fmt.Sprintf("%s %s.%s in %q", r.verb, r.resource, r.group, r.namespace)
}

// covers says whether the line checks the right: same verb and resource,
// and a namespace the right applies to. The lines for team-a stand for
// every watched namespace.
func (q canI) covers(r right, own string) bool {
	if r.namespace == "team-b" {
		r.namespace = "team-a"
	}
	res := q.resource
	if q.subresource != "" {
		res += "/" + q.subresource
	}
	ns := q.namespace
	if ns == "own" {
		ns = own
	}
	return q.verb == r.verb && q.group == r.group && res == r.resource && (r.namespace == "" || r.namespace == ns)
}

// grantedRights lists what the install's Roles and ClusterRoles bound to its
// manager's ServiceAccount grant.
func grantedRights(t *testing.T, in install) []right {
	t.Helper()
	roles := map[string][]rbacv1.PolicyRule{} // kind/namespace/name
	var bound []string
	for _, o := range in.objs {
		switch o.GetKind() {
		case "Role", "ClusterRole":
			var r rbacv1.ClusterRole // the same rules as a Role's
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			roles[id(o)] = r.Rules
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.RoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b); err != nil {
				t.Fatal(err)
			}
			for _, s := range b.Subjects {
				if s.Kind == "ServiceAccount" && s.Name == in.sa && s.Namespace == in.namespace {
					ns := ""
					if b.RoleRef.Kind == "Role" {
						ns = o.GetNamespace()
					}
					bound = append(bound, b.RoleRef.Kind+"/"+ns+"/"+b.RoleRef.Name)
				}
			}
		}
	}
	var out []right
	for _, ref := range bound {
		rules, ok := roles[ref]
		if !ok {
			t.Errorf("%s binds its manager to %s, which it does not install", in.name, ref)
		}
		ns := strings.Split(ref, "/")[1]
		for _, rule := range rules {
			if len(rule.NonResourceURLs) > 0 {
				t.Errorf("%s grants its manager non-resource URLs %v", in.name, rule.NonResourceURLs)
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, v := range rule.Verbs {
						out = append(out, right{verb: v, group: g, resource: res, namespace: ns})
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Errorf("%s grants its manager nothing", in.name)
	}
	return out
}
