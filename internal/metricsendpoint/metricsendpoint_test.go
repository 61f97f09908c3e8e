package metricsendpoint

import (
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/cxloop/cxloop/internal/devenv"
)

func TestFlagsDefaultToSecureServing(t *testing.T) {
	c := Default()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if o.BindAddress != ":8443" || !o.SecureServing || o.FilterProvider == nil {
		t.Fatalf("without flags the endpoint must be HTTPS on :8443 with authentication; got %+v", o)
	}
	if len(o.TLSOpts) == 0 {
		t.Error("HTTP/2 must be off unless --enable-http2")
	}

	c = Default()
	fs = flag.NewFlagSet("manager", flag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse([]string{"--metrics-secure=false", "--metrics-bind-address=:8080"}); err != nil {
		t.Fatal(err)
	}
	o = c.Options()
	if o.SecureServing || o.FilterProvider != nil || o.BindAddress != ":8080" {
		t.Fatalf("--metrics-secure=false must serve plain HTTP without a filter; got %+v", o)
	}
}

// TestMetricsEndpointChecksTokens runs a manager with the endpoint exactly as
// cmd/main.go configures it, against a real API server that authenticates
// ServiceAccount tokens and authorizes with RBAC. The manager acts as its own
// ServiceAccount with only config/rbac's metrics-auth-role, so a missing rule
// there fails the test too.
func TestMetricsEndpointChecksTokens(t *testing.T) {
	cfg := startAPIServer(t)
	ctx := context.Background()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)

	const ns = "cxloop-system"
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	for _, sa := range []string{"controller-manager", "prometheus", "stranger"} {
		must(t, c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}))
	}
	for _, f := range []string{"metrics_auth_role.yaml", "metrics_auth_role_binding.yaml", "metrics_reader_role.yaml"} {
		obj := rbacObject(t, filepath.Join("..", "..", "config", "rbac", f), ns)
		must(t, c.Create(ctx, obj))
	}
	must(t, c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: ns}},
	}))

	managerCfg := rest.CopyConfig(cfg)
	managerCfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":controller-manager"}
	metrics := Default()
	addr, err := devenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	metrics.BindAddress = addr
	startManager(t, managerCfg, scheme, metrics)
	url := "https://" + metrics.BindAddress + "/metrics"

	token := func(sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	const refused = -1
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		// controller-runtime's filter answers 500 when the TokenReview
		// rejects a token; what matters is that nothing is served.
		{"a token the API server did not issue", "not-a-token", refused},
		{"a ServiceAccount not bound to metrics-reader", token("stranger"), http.StatusForbidden},
		{"a ServiceAccount bound to metrics-reader", token("prometheus"), http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := scrape(t, url, tc.token)
			if tc.want == refused && code != http.StatusOK {
				code = refused
			}
			if code != tc.want {
				t.Fatalf("GET %s: %d, want %d: %s", url, code, tc.want, firstLine(body))
			}
			if tc.want == http.StatusOK && !strings.Contains(body, "# TYPE ") {
				t.Errorf("200 without metrics: %s", firstLine(body))
			}
			if tc.want != http.StatusOK && strings.Contains(body, "# TYPE ") {
				t.Errorf("refused scrape leaked metrics")
			}
		})
	}
}

// TestPlainHTTPOnlyWhenAsked: --metrics-secure=false serves plain HTTP
// without a token, for clusters that protect the port otherwise.
func TestPlainHTTPOnlyWhenAsked(t *testing.T) {
	cfg := startAPIServer(t)
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	metrics := Default()
	metrics.Secure = false
	addr, err := devenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	metrics.BindAddress = addr
	startManager(t, cfg, scheme, metrics)
	code, body := scrape(t, "http://"+metrics.BindAddress+"/metrics", "")
	if code != http.StatusOK || !strings.Contains(body, "# TYPE ") {
		t.Fatalf("plain HTTP scrape: %d %s", code, firstLine(body))
	}
}

func startAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which prepares kube-apiserver and etcd")
	}
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return cfg
}

func startManager(t *testing.T, cfg *rest.Config, scheme *runtime.Scheme, metrics Config) {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metrics.Options(), HealthProbeBindAddress: "0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := dial(metrics); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("metrics endpoint %s never listened: %v", metrics.BindAddress, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial connects to the endpoint; with a TLS handshake when it is secure, so
// that the server logs no handshake EOF.
func dial(metrics Config) error {
	d := &net.Dialer{Timeout: time.Second}
	var conn net.Conn
	var err error
	if metrics.Secure {
		conn, err = tls.DialWithDialer(d, "tcp", metrics.BindAddress, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed
	} else {
		conn, err = d.Dial("tcp", metrics.BindAddress)
	}
	if err == nil {
		_ = conn.Close()
	}
	return err
}

// scrape GETs the endpoint as Prometheus does: the manager's certificate is
// self-signed, the token goes in the Authorization header.
func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's certificate is self-signed
	}}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rbacObject reads a ClusterRole or ClusterRoleBinding from config/rbac,
// with kustomize's namespace for ServiceAccount subjects.
func rbacObject(t *testing.T, path, ns string) client.Object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var head metav1.TypeMeta
	must(t, yaml.Unmarshal(b, &head))
	switch head.Kind {
	case "ClusterRole":
		var r rbacv1.ClusterRole
		must(t, yaml.UnmarshalStrict(b, &r))
		return &r
	case "ClusterRoleBinding":
		var r rbacv1.ClusterRoleBinding
		must(t, yaml.UnmarshalStrict(b, &r))
		for i := range r.Subjects {
			r.Subjects[i].Namespace = ns
		}
		return &r
	}
	t.Fatalf("%s: unexpected kind %q", path, head.Kind)
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
