package metricsource

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Flags are the manager's Prometheus options.
type Flags struct {
	// Address of Prometheus; empty: measures are not read (NotConfigured).
	Address string
	// SecretName names a Secret in the manager's namespace with either key
	// "token" (a bearer token) or keys "username" and "password" (basic auth).
	SecretName string
	// CAFile, CertFile and KeyFile configure TLS; InsecureSkipVerify skips
	// the server's certificate check (tests only).
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	// Timeout bounds each query.
	Timeout time.Duration
	// TenantLabel is enforced on every query with the journey's namespace
	// as its value; empty: queries are sent as written.
	TenantLabel string
}

// BindFlags registers the flags.
func (f *Flags) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.Address, "prometheus-address", "", "Base URL of the Prometheus that holds the touchpoints' measures, such as http://prometheus.monitoring:9090; empty: measures are not read.")
	fs.StringVar(&f.SecretName, "prometheus-secret", "", "Secret in the manager's namespace (POD_NAMESPACE) with key \"token\" (bearer token) or keys \"username\" and \"password\" (basic auth) for Prometheus; read at each query.")
	fs.StringVar(&f.CAFile, "prometheus-ca-file", "", "PEM file with the CA bundle that signs Prometheus' certificate (system roots when empty).")
	fs.StringVar(&f.CertFile, "prometheus-cert-file", "", "PEM client certificate for Prometheus (mutual TLS).")
	fs.StringVar(&f.KeyFile, "prometheus-key-file", "", "PEM key of --prometheus-cert-file.")
	fs.BoolVar(&f.InsecureSkipVerify, "prometheus-insecure-skip-verify", false, "Do not check Prometheus' certificate (never in production).")
	fs.DurationVar(&f.Timeout, "prometheus-timeout", DefaultTimeout, "Bound on each Prometheus query.")
	fs.StringVar(&f.TenantLabel, "prometheus-tenant-label", DefaultTenantLabel, "Label every measure's query is confined to: each selector gets <label>=\"<the journey's namespace>\" (any matcher the query has on it is replaced). Empty: queries are sent as written and any namespace reads any series.")
}

// Source is the Source the flags describe: Unconfigured without an
// address. creds reads the Secret named by SecretName (nil without one).
func (f Flags) Source(creds func(ctx context.Context) (Credentials, error)) (Source, error) {
	if f.Address == "" {
		return Unconfigured{}, nil
	}
	if f.TenantLabel != "" && (!model.UTF8Validation.IsValidLabelName(f.TenantLabel) || f.TenantLabel == model.MetricNameLabel) {
		return nil, fmt.Errorf("--prometheus-tenant-label %q is not a label name a tenant's series can carry", f.TenantLabel)
	}
	tlsCfg, err := TLSConfig(f.CAFile, f.CertFile, f.KeyFile, f.InsecureSkipVerify)
	if err != nil {
		return nil, err
	}
	if f.SecretName == "" {
		creds = nil
	}
	return New(Config{Address: f.Address, Credentials: creds, TLS: tlsCfg, Timeout: f.Timeout, TenantLabel: f.TenantLabel})
}
