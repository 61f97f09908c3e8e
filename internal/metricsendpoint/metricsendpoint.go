// Package metricsendpoint configures the manager's Prometheus endpoint the
// way controller-runtime's scaffolds do: HTTPS, and every scrape
// authenticated with a TokenReview and authorized with a SubjectAccessReview
// against the API server, so that only a caller bound to the metrics-reader
// ClusterRole reads the figures (the endpoint names namespaces, journeys and
// phases). cmd/main.go and the tests share it, so the tests exercise the
// endpoint that ships.
package metricsendpoint

import (
	"crypto/tls"
	"flag"

	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Config is the endpoint's part of the manager's command line.
type Config struct {
	// BindAddress is where the endpoint listens; "0" turns it off.
	BindAddress string
	// Secure serves HTTPS with authentication and authorization; false
	// serves plain HTTP to anyone who can reach the port, for clusters
	// where a sidecar or a network policy protects it.
	Secure bool
	// CertDir holds CertName and KeyName, e.g. a Secret issued by
	// cert-manager; they are reloaded when they change. When the files are
	// absent the endpoint uses a self-signed certificate, which Prometheus
	// accepts with insecureSkipVerify (the token is still checked).
	CertDir, CertName, KeyName string
	// EnableHTTP2 allows HTTP/2. It is off by default because of the HTTP/2
	// Stream Cancellation and Rapid Reset vulnerabilities (CVE-2023-44487,
	// CVE-2023-39325); Prometheus scrapes over HTTP/1.1 anyway.
	EnableHTTP2 bool
}

// Default is the configuration of a manager started without flags.
func Default() Config {
	return Config{BindAddress: ":8443", Secure: true, CertName: "tls.crt", KeyName: "tls.key"}
}

// BindFlags registers the endpoint's flags with their defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	d := Default()
	fs.StringVar(&c.BindAddress, "metrics-bind-address", d.BindAddress, "Address of the Prometheus metrics endpoint; 0 turns it off. Use :8080 with --metrics-secure=false for plain HTTP.")
	fs.BoolVar(&c.Secure, "metrics-secure", d.Secure, "Serve metrics over HTTPS and only to callers whose token is allowed to get /metrics (the metrics-reader ClusterRole). false serves plain HTTP to anyone.")
	fs.StringVar(&c.CertDir, "metrics-cert-path", "", "Directory with the metrics endpoint's certificate and key; a self-signed certificate is used when empty.")
	fs.StringVar(&c.CertName, "metrics-cert-name", d.CertName, "File name of the metrics endpoint's certificate in --metrics-cert-path.")
	fs.StringVar(&c.KeyName, "metrics-cert-key", d.KeyName, "File name of the metrics endpoint's key in --metrics-cert-path.")
	fs.BoolVar(&c.EnableHTTP2, "enable-http2", false, "Allow HTTP/2 on the metrics endpoint (off because of CVE-2023-44487).")
}

// Options turns the configuration into controller-runtime's metrics server
// options.
func (c Config) Options() metricsserver.Options {
	o := metricsserver.Options{BindAddress: c.BindAddress, SecureServing: c.Secure}
	if !c.Secure {
		return o
	}
	o.FilterProvider = filters.WithAuthenticationAndAuthorization
	o.CertDir, o.CertName, o.KeyName = c.CertDir, c.CertName, c.KeyName
	if !c.EnableHTTP2 {
		o.TLSOpts = append(o.TLSOpts, func(t *tls.Config) { t.NextProtos = []string{"http/1.1"} })
	}
	return o
}
