package controllers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cxloop/cxloop/internal/devenv"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// The controller tests run against a real kube-apiserver and etcd started by
// envtest (see hack/envtest.sh for where the binaries come from).
var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = devenv.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the controller tests with `make test`, which prepares kube-apiserver and etcd")
		return 1
	}
	api, err := devenv.StartAPIServer("..", "", scheme)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = api.Stop() }()
	testEnv, cfg = api.Env, api.Config
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func zapLevel() zapcore.LevelEnabler {
	if os.Getenv("CXLOOP_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// controllerOptions lets every test start its own manager in one process.
func controllerOptions() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}

// testManager is one run of the cxloop manager against the test API server.
type testManager struct {
	cancel context.CancelFunc
	done   chan error
}

// startManager runs a manager with the reconcilers that setup adds, until
// the test ends or stop is called.
func startManager(t testing.TB, setup func(ctrl.Manager) error) *testManager {
	t.Helper()
	return startManagerWithCache(t, CacheOptions(), setup)
}

// startManagerWithCache is startManager with a cache of its own (a shard's).
func startManagerWithCache(t testing.TB, cache cache.Options, setup func(ctrl.Manager) error) *testManager {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cache,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             controllerOptions(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := SetupIndexes(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	if err := setup(mgr); err != nil {
		t.Fatal(err)
	}
	m := &testManager{cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	t.Cleanup(m.stop)
	return m
}

func (m *testManager) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel = nil
}

// namespace creates a namespace of the test's own.
func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{}
	ns.GenerateName = "cx-"
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func eventually(t *testing.T) Gomega {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(60 * time.Second) // generous: CI runs packages side by side on 2 cores
	g.SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	g.SetDefaultConsistentlyDuration(2 * time.Second)
	return g
}

// localTrackers are the trackers of a manager talking to the local GitHub,
// which has no content limits: its write budget is set as an admin would
// set it for a GitHub Enterprise Server without them.
func localTrackers(mgr ctrl.Manager) *Trackers {
	return &Trackers{Reader: mgr.GetClient(), APIReader: mgr.GetAPIReader(), WritesPerMinute: 600, WritesPerHour: 36000,
		HTTPClient:      &http.Client{Timeout: 2 * time.Second}, // a GitHub that hangs is seen soon
		allowedHostsNow: localGitHubHosts.list}
}

// credentialsLabels opt a test's Secret in as GitHub credentials.
func credentialsLabels() map[string]string {
	return map[string]string{tracker.CredentialsLabel: tracker.CredentialsLabelValue}
}

// localGitHubHosts are the host:port of the local GitHub servers the tests
// started: the allowlist of the tests' cxloop, as an admin would list a
// GitHub Enterprise Server in --github-allowed-hosts.
var localGitHubHosts hostList

// allowLocalGitHub lists a started local GitHub in localGitHubHosts.
func allowLocalGitHub(gh *localgithub.Server) {
	u, err := url.Parse(gh.URL())
	if err != nil {
		panic(err)
	}
	localGitHubHosts.add(u.Host)
}

type hostList struct {
	mu    sync.Mutex
	hosts []string
}

func (l *hostList) add(h string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hosts = append(l.hosts, h)
}

func (l *hostList) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hosts...)
}
