// Command manager runs the cxloop controllers: it scores customer journey
// maps, schedules their reviews, opens and tracks the GitHub issues of their
// improvement phases, receives GitHub's issue webhooks and serves a
// read-only status page for leadership.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/metricsendpoint"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/pageauth"
	"github.com/cxloop/cxloop/internal/tracker"
)

func main() {
	var (
		probeAddr, statusAddr, webhookAddr   string
		pprofAddr                            string
		webhookSecretName, webhookSecretFile string
		webhookPreviousSecretFile            string
		leaderElect                          bool
		leaderNamespace                      string
		leaseDuration, renewDeadline, retry  time.Duration
		writesPerMinute, writesPerHour       int
		createGrace, requestTimeout          time.Duration
		concurrency                          int
		metrics                              = metricsendpoint.Default()
		prometheus                           metricsource.Flags
		// The status page's readers.
		pageAuth, pageProxyCIDRs       string
		pageProxyUser, pageProxyGroups string
	)
	metrics.BindFlags(flag.CommandLine)
	prometheus.BindFlags(flag.CommandLine)
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address of net/http/pprof (/debug/pprof/) to profile the manager; 0 turns it off. It serves anyone who can reach it: bind it to localhost.")
	flag.StringVar(&statusAddr, "status-page-bind-address", ":8090", "Address of the read-only status page for leadership; empty turns it off.")
	flag.StringVar(&pageAuth, "status-page-auth", string(pageauth.ModeToken), "Who may read the status page and its JSON API: token (an Authorization: Bearer token, checked with a TokenReview), proxy (an authenticating proxy's identity headers, from --status-page-proxy-trusted-cidrs only) or none (anyone sees every namespace: demos only). In token and proxy mode a reader sees the namespaces where Kubernetes lets them list customerjourneys.")
	flag.StringVar(&pageProxyUser, "status-page-proxy-user-header", "X-Forwarded-User", "In proxy mode, the header that names the user.")
	flag.StringVar(&pageProxyGroups, "status-page-proxy-groups-header", "X-Forwarded-Groups", "In proxy mode, the header that lists the user's groups, comma-separated.")
	flag.StringVar(&pageProxyCIDRs, "status-page-proxy-trusted-cidrs", "", "In proxy mode (required there), the authenticating proxy's addresses, comma-separated CIDRs: identity headers from anywhere else are refused (401).")
	flag.StringVar(&webhookAddr, "github-webhook-bind-address", ":9443", "Address that receives GitHub issue webhooks at "+controllers.WebhookPath+"; empty turns it off.")
	flag.StringVar(&webhookSecretName, "github-webhook-secret", "", "Secret in the manager's namespace (POD_NAMESPACE) whose key \"secret\" is the GitHub webhook secret, and \"previous-secret\" (optional) the one being rotated out; watched, not read per delivery.")
	flag.StringVar(&webhookSecretFile, "github-webhook-secret-file", "", "File holding the GitHub webhook secret (instead of --github-webhook-secret); re-read when it changes, looked at every 10s.")
	flag.StringVar(&webhookPreviousSecretFile, "github-webhook-previous-secret-file", "", "File holding the GitHub webhook secret being rotated out (optional, with --github-webhook-secret-file); deliveries signed with it are accepted while the file exists.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so that only one manager works at a time.")
	flag.StringVar(&leaderNamespace, "leader-election-namespace", os.Getenv("POD_NAMESPACE"), "Namespace of the leader election Lease; defaults to the pod's namespace (POD_NAMESPACE), needed when running outside a cluster.")
	flag.DurationVar(&leaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long a leader's Lease holds before another replica may take over.")
	flag.DurationVar(&renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew its Lease before it steps down.")
	flag.DurationVar(&retry, "leader-elect-retry-period", 2*time.Second, "How often replicas try to acquire or renew the Lease.")
	flag.IntVar(&writesPerMinute, "github-writes-per-minute", 0, "Writes (creations, edits, comments) cxloop sends per GitHub token and minute; 0 means 60, within GitHub's documented 80. Raise it only for a GitHub Enterprise Server whose admin set higher limits.")
	flag.IntVar(&writesPerHour, "github-writes-per-hour", 0, "Writes cxloop sends per GitHub token and hour; 0 means GitHub's documented 500.")
	flag.DurationVar(&createGrace, "create-grace", 0, "How long cxloop waits for an issue it asked GitHub to open to show up before asking again (a request in flight at a crash, GitHub's listing lagging); 0 means 1m.")
	flag.DurationVar(&requestTimeout, "github-request-timeout", 30*time.Second, "Longest wait for one answer of GitHub's.")
	flag.IntVar(&concurrency, "max-concurrent-reconciles", 4, "Reconciles each controller runs at once.")
	var watchNamespaces string
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces whose journeys, phases and credentials Secrets cxloop watches; empty watches every namespace. The manager's RBAC must allow them (the chart's watchNamespaces).")
	// Where GitHub credentials may be sent (issue 21).
	githubAllowedHosts := flag.String("github-allowed-hosts", tracker.DefaultAllowedHosts, "Comma-separated host[:port] of the GitHub API hosts that journeys' credentials may be sent to (spec.tracker.github.apiURL); an entry without a port allows the scheme's default port. https only, except to a loopback host listed here (local use).")
	var watchLabelSelector, leaderElectionID string
	flag.StringVar(&watchLabelSelector, "watch-label-selector", "", "Label selector of the CustomerJourneys this manager reconciles, with their phases (sharding, as Flux's): e.g. "+controllers.ShardLabel+"=shard1 for a shard, '!"+controllers.ShardLabel+"' for the main manager that takes unlabelled journeys; empty reconciles every journey. Each shard needs its own --leader-election-id.")
	flag.StringVar(&leaderElectionID, "leader-election-id", controllers.LeaderElectionID, "Name of the leader election Lease; each shard (--watch-label-selector) needs its own, or only one shard runs.")
	var budgetNamespace string
	flag.StringVar(&budgetNamespace, "github-budget-namespace", "", "Namespace of the Leases (cxloop-github-budget-*) that keep each GitHub token's write budget and announced waits across restarts; default: the leader election namespace with --leader-elect, else none (kept in memory).")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	pageAccess, err := statusPageAuth(pageAuth, pageProxyUser, pageProxyGroups, pageProxyCIDRs)
	if err != nil {
		log.Error(err, "configuring the status page")
		os.Exit(1)
	}
	// Go lets its heap grow to twice what it holds before collecting, which
	// under the container's memory limit is an OOM kill; a soft limit below
	// it (GOMEMLIMIT, unless set) makes the collector work harder instead.
	// It leaves a fifth of the limit to what is not Go's heap, mostly the
	// binary's own code and data: about 50 MiB resident, which the cgroup
	// counts too (make bench). test/bench sets the same for its runs.
	if limit, err := memlimit.Set(memlimit.WithRatio(0.8)); err != nil {
		log.Error(err, "setting GOMEMLIMIT from the container's memory limit")
	} else if limit < math.MaxInt64 {
		log.Info("Go memory limit", "GOMEMLIMIT", limit)
	}

	allowedHosts, err := tracker.ParseAllowedHosts(*githubAllowedHosts)
	if err != nil {
		log.Error(err, "--github-allowed-hosts")
		os.Exit(1)
	}

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = cxv1.AddToScheme(scheme)

	cacheOptions := controllers.CacheOptions()
	if err := controllers.WatchNamespaces(&cacheOptions, watchNamespaces); err != nil {
		log.Error(err, "configuring the watched namespaces")
		os.Exit(1)
	}
	shardSelector, err := controllers.WatchLabelSelector(&cacheOptions, watchLabelSelector)
	if err != nil {
		log.Error(err, "configuring the watched journeys")
		os.Exit(1)
	}
	if leaderElect && shardSelector != nil && !shardSelector.Matches(labels.Set{}) && leaderElectionID == controllers.LeaderElectionID {
		// It would wait for the main manager's Lease forever.
		log.Error(nil, "--watch-label-selector: a shard needs a --leader-election-id of its own", "selector", watchLabelSelector)
		os.Exit(1)
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOptions,
		Metrics:                metrics.Options(),
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       leaderElectionID,
		// Outside a cluster there is no pod namespace to find the Lease in.
		LeaderElectionNamespace: leaderNamespace,
		// A leader that stops on purpose hands over at once, not after the lease.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retry,
	})
	if err != nil {
		log.Error(err, "creating the manager")
		os.Exit(1)
	}
	ctx := ctrl.SetupSignalHandler()
	measures, err := prometheus.Source(controllers.PrometheusCredentials(mgr.GetAPIReader(), os.Getenv("POD_NAMESPACE"), prometheus.SecretName))
	if err != nil {
		log.Error(err, "configuring Prometheus")
		os.Exit(1)
	}
	webhookSecrets, err := webhookSecrets(ctx, mgr, webhookAddr, webhookSecretName, webhookSecretFile, webhookPreviousSecretFile)
	if err != nil {
		log.Error(err, "setting up the GitHub webhook's secret")
		os.Exit(1)
	}
	if budgetNamespace == "" && leaderElect {
		budgetNamespace = leaderNamespace // beside the leader's Lease: the same RBAC allows it
	}
	err = controllers.Setup(ctx, mgr, controllers.Options{
		GitHubWebhookAddr:    webhookAddr,
		GitHubWebhookSecrets: webhookSecrets,
		StatusPageAddr:       statusAddr,
		WritesPerMinute:      writesPerMinute,
		WritesPerHour:        writesPerHour,
		CreateGrace:          createGrace,
		HTTPClient:           &http.Client{Timeout: requestTimeout},
		Controller:           controller.Options{MaxConcurrentReconciles: concurrency},
		Metrics:              measures,
		GitHubAllowedHosts:   allowedHosts,
		StatusPageAuth:       pageAccess,

		// The write budget and the leader's Lease (issue 21).
		BudgetNamespace:         budgetNamespace,
		LeaderElection:          leaderElect,
		LeaderElectionNamespace: leaderNamespace,
		LeaderElectionID:        leaderElectionID,

		// Sharding (issue 18).
		WatchLabelSelector: shardSelector,
	})
	if err != nil {
		log.Error(err, "setting up cxloop")
		os.Exit(1)
	}
	_ = mgr.AddHealthzCheck("healthz", healthz.Ping)
	_ = mgr.AddReadyzCheck("readyz", healthz.Ping)

	log.Info("starting manager")
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}

// statusPageAuth reads the --status-page-auth flags.
func statusPageAuth(mode, userHeader, groupsHeader, cidrs string) (controllers.StatusPageAuth, error) {
	m, err := pageauth.ParseMode(mode)
	if err != nil {
		return controllers.StatusPageAuth{}, err
	}
	a := controllers.StatusPageAuth{Mode: m, ProxyUserHeader: userHeader, ProxyGroupsHeader: groupsHeader}
	if m == pageauth.ModeProxy {
		if a.ProxyTrusted, err = pageauth.ParseCIDRs(cidrs); err != nil {
			return a, err
		}
	} else if cidrs != "" {
		return a, fmt.Errorf("--status-page-proxy-trusted-cidrs is for --status-page-auth=proxy, not %s", m)
	}
	return a, nil
}

// webhookSecrets serves the GitHub webhook's secrets from memory: a watch
// on the Secret, or files re-read when they change.
func webhookSecrets(ctx context.Context, mgr ctrl.Manager, addr, name, file, previousFile string) (func() [][]byte, error) {
	switch {
	case addr == "":
		return nil, nil
	case file != "":
		s, err := controllers.FileWebhookSecrets(file, previousFile)
		if err != nil {
			return nil, err
		}
		return s.Secrets, nil
	case name != "":
		s, err := controllers.WatchWebhookSecret(ctx, mgr, os.Getenv("POD_NAMESPACE"), name)
		if err != nil {
			return nil, err
		}
		return s.Secrets, nil
	}
	return nil, nil
}
