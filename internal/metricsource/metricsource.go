// Package metricsource reads the journey map's measures from Prometheus.
// Every failure is an *Error of a Kind the controllers turn into a
// condition reason: Prometheus unreachable, a query past its timeout,
// credentials refused, a query that returns several series, no data.
package metricsource

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/cxloop/cxloop/internal/redact"
)

// Source reads measures.
type Source interface {
	// Query returns the value of promql at a time, as namespace's tenant
	// may see it. The query must return one series (or a scalar).
	Query(ctx context.Context, namespace, promql string, at time.Time) (float64, error)
	// Mean returns the mean of promql's values over [start, end], read at
	// evenly spaced points, as namespace's tenant may see it; the query must
	// return one series.
	Mean(ctx context.Context, namespace, promql string, start, end time.Time) (float64, error)
}

// Kind classifies a failure to read a measure.
type Kind int

const (
	// NoData: the query returned nothing (or only NaN) for the time asked.
	NoData Kind = iota + 1
	// MultipleSeries: the query returned more than one series.
	MultipleSeries
	// Unavailable: Prometheus could not be reached, or answered with a server error.
	Unavailable
	// Timeout: the query ran past its timeout.
	Timeout
	// Unauthorized: Prometheus refused the credentials (401 or 403).
	Unauthorized
	// BadQuery: Prometheus refused the query (a PromQL syntax or execution error).
	BadQuery
	// NotConfigured: the manager was started without a Prometheus address.
	NotConfigured
)

// Error is a failure to read a measure.
type Error struct {
	Kind Kind
	// Message says what went wrong for a person; it never holds credentials.
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Reason is the condition reason of the failure.
func (e *Error) Reason() string {
	switch e.Kind {
	case NoData:
		return cxv1.ReasonNoData
	case MultipleSeries:
		return cxv1.ReasonMultipleSeries
	case Timeout:
		return cxv1.ReasonQueryTimeout
	case Unauthorized:
		return cxv1.ReasonPrometheusUnauthorized
	case BadQuery:
		return cxv1.ReasonBadQuery
	case NotConfigured:
		return cxv1.ReasonPrometheusNotConfigured
	}
	return cxv1.ReasonPrometheusUnavailable
}

// KindOf is err's Kind, Unavailable for an error of another type.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Unavailable
}

// ReasonOf is err's condition reason.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason()
	}
	return cxv1.ReasonPrometheusUnavailable
}

// Credentials are sent with every request; read again for each, so that a
// rotated Secret takes effect without a restart.
type Credentials struct {
	// BearerToken, when set, is sent as "Authorization: Bearer".
	BearerToken string
	// Username and Password, when Username is set, are sent as basic auth.
	Username, Password string
}

// Config says how to reach Prometheus.
type Config struct {
	// Address is Prometheus' base URL, such as http://prometheus.monitoring:9090.
	Address string
	// Credentials returns the credentials to send, if any; nil sends none.
	Credentials func(ctx context.Context) (Credentials, error)
	// TLS configures HTTPS (a CA bundle, a client certificate); nil uses the system's roots.
	TLS *tls.Config
	// Timeout bounds each query; 30s when 0.
	Timeout time.Duration
	// MaxPoints bounds the points a Mean reads; 120 when 0.
	MaxPoints int
	// TenantLabel, when set, is enforced on every query: each selector gets
	// TenantLabel="<the journey's namespace>" (see EnforceLabel).
	TenantLabel string
}

// DefaultTimeout bounds a query when the configuration does not.
const DefaultTimeout = 30 * time.Second

// Prometheus is a Source backed by Prometheus' HTTP API.
type Prometheus struct {
	api         promv1.API
	address     string
	timeout     time.Duration
	maxPoints   int
	tenantLabel string
}

// New returns a Source for the Prometheus at cfg.Address.
func New(cfg Config) (*Prometheus, error) {
	if cfg.Address == "" {
		return nil, errors.New("metricsource: no Prometheus address")
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = cfg.TLS
	base.ResponseHeaderTimeout = 0 // the query's context bounds it
	c, err := api.NewClient(api.Config{Address: cfg.Address, RoundTripper: &authTransport{next: base, creds: cfg.Credentials}})
	if err != nil {
		// url.Error quotes the whole address, user info and all, and its
		// reason may quote a piece of it (`invalid port ":ab" after host`
		// for user:ab/cd@host): the reason is shown only for an address
		// without user info.
		why := "not a URL"
		var ue *url.Error
		if errors.As(err, &ue) && !strings.Contains(cfg.Address, "@") {
			why = ue.Err.Error()
		}
		return nil, fmt.Errorf("metricsource: Prometheus address %s: %s", redact.URL(cfg.Address), why)
	}
	// The address is shown in errors, which land in every journey's
	// conditions and on the status page: never with its user info.
	p := &Prometheus{api: promv1.NewAPI(c), address: redact.URL(cfg.Address), timeout: cfg.Timeout, maxPoints: cfg.MaxPoints, tenantLabel: cfg.TenantLabel}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.maxPoints <= 0 {
		p.maxPoints = 120
	}
	return p, nil
}

// Query implements Source.
func (p *Prometheus) Query(ctx context.Context, namespace, query string, at time.Time) (float64, error) {
	promql, err := p.scope(namespace, query)
	if err != nil {
		return 0, err
	}
	f, err := p.instant(ctx, promql, at)
	return f, p.hint(err, namespace)
}

func (p *Prometheus) instant(ctx context.Context, promql string, at time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, err := p.api.Query(ctx, promql, at, promv1.WithTimeout(p.timeout))
	if err != nil {
		return 0, p.classify(ctx, err)
	}
	switch v := v.(type) {
	case *model.Scalar:
		return value(float64(v.Value), at)
	case model.Vector:
		switch len(v) {
		case 0:
			return 0, &Error{Kind: NoData, Message: fmt.Sprintf("no data at %s", at.UTC().Format(time.RFC3339))}
		case 1:
			return value(float64(v[0].Value), at)
		}
		return 0, multiple(len(v), v[0].Metric, v[1].Metric)
	}
	return 0, &Error{Kind: BadQuery, Message: fmt.Sprintf("the query returns a %s, not one series", v.Type())}
}

// Mean implements Source.
func (p *Prometheus) Mean(ctx context.Context, namespace, query string, start, end time.Time) (float64, error) {
	if !end.After(start) {
		return 0, &Error{Kind: NoData, Message: "empty window"}
	}
	promql, err := p.scope(namespace, query)
	if err != nil {
		return 0, err
	}
	f, err := p.mean(ctx, promql, start, end)
	return f, p.hint(err, namespace)
}

// hint adds to a NoData failure that the query saw only the namespace's
// series: the likeliest cause when a query that worked unscoped stops.
func (p *Prometheus) hint(err error, namespace string) error {
	var e *Error
	if p.tenantLabel == "" || !errors.As(err, &e) || e.Kind != NoData {
		return err
	}
	return &Error{Kind: NoData, Message: fmt.Sprintf("%s (only series with %s=%q are read)", e.Message, p.tenantLabel, namespace), Err: e.Err}
}

func (p *Prometheus) mean(ctx context.Context, promql string, start, end time.Time) (float64, error) {
	step := end.Sub(start) / time.Duration(p.maxPoints)
	if step < time.Second {
		step = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, err := p.api.QueryRange(ctx, promql, promv1.Range{Start: start, End: end, Step: step}, promv1.WithTimeout(p.timeout))
	if err != nil {
		return 0, p.classify(ctx, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return 0, &Error{Kind: BadQuery, Message: fmt.Sprintf("the query returns a %s, not one series", v.Type())}
	}
	window := fmt.Sprintf("%s to %s", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	switch len(m) {
	case 0:
		return 0, &Error{Kind: NoData, Message: "no data from " + window}
	case 1:
	default:
		return 0, multiple(len(m), m[0].Metric, m[1].Metric)
	}
	var sum float64
	n := 0
	for _, s := range m[0].Values {
		if f := float64(s.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
			sum += f
			n++
		}
	}
	if n == 0 {
		return 0, &Error{Kind: NoData, Message: "no data from " + window}
	}
	return sum / float64(n), nil
}

func value(f float64, at time.Time) (float64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &Error{Kind: NoData, Message: fmt.Sprintf("no number at %s (the query gives %v)", at.UTC().Format(time.RFC3339), f)}
	}
	return f, nil
}

func multiple(n int, a, b model.Metric) error {
	return &Error{Kind: MultipleSeries, Message: fmt.Sprintf("the query returns %d series (for example %s and %s); a measure needs one: aggregate it, e.g. avg(...) or sum(...)", n, clip(a.String()), clip(b.String()))}
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// classify turns the client's error into an *Error.
func (p *Prometheus) classify(ctx context.Context, err error) error {
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return &Error{Kind: Timeout, Message: fmt.Sprintf("the query ran past its timeout of %s", p.timeout), Err: err}
	}
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) {
		if stopped, why := stoppedByPrometheus(apiErr); stopped {
			return &Error{Kind: Timeout, Message: fmt.Sprintf("Prometheus stopped the query at its timeout of %s: %s", p.timeout, clip(why)), Err: err}
		}
		switch apiErr.Type {
		case promv1.ErrTimeout, promv1.ErrCanceled:
			return &Error{Kind: Timeout, Message: fmt.Sprintf("Prometheus stopped the query at its timeout of %s: %s", p.timeout, apiErr.Msg), Err: err}
		case promv1.ErrBadData, promv1.ErrExec:
			return &Error{Kind: BadQuery, Message: "Prometheus refused the query: " + apiErr.Msg, Err: err}
		}
		return &Error{Kind: Unavailable, Message: fmt.Sprintf("Prometheus at %s answered %s", p.address, apiErr.Msg), Err: err}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &Error{Kind: Timeout, Message: fmt.Sprintf("the query ran past its timeout of %s", p.timeout), Err: err}
	}
	if m := unreadableType.FindStringSubmatch(err.Error()); m != nil {
		// Prometheus answered, with a type the client does not decode: a
		// string literal (PromQL "..."). The query's fault.
		return &Error{Kind: BadQuery, Message: fmt.Sprintf("the query returns a %s, not one series", m[1]), Err: err}
	}
	return &Error{Kind: Unavailable, Message: fmt.Sprintf("Prometheus at %s cannot be reached: %s", p.address, redact.Text(rootCause(err))), Err: err}
}

// unreadableType matches the client's error for an answer of a type it
// cannot decode (it gives no typed error for it).
var unreadableType = regexp.MustCompile(`unexpected value type "([a-z]+)"`)

// stoppedByPrometheus reports whether Prometheus stopped the query itself:
// it says so in the body's errorType, timeout or canceled, under 503 and
// 499 (which the client parses only under 400 and 422, leaving the body in
// Detail).
func stoppedByPrometheus(e *promv1.Error) (bool, string) {
	if e.Type == promv1.ErrTimeout || e.Type == promv1.ErrCanceled {
		return true, e.Msg
	}
	if e.Type != promv1.ErrServer && e.Type != promv1.ErrClient {
		return false, ""
	}
	var body struct {
		ErrorType promv1.ErrorType `json:"errorType"`
		Error     string           `json:"error"`
	}
	if json.Unmarshal([]byte(e.Detail), &body) != nil {
		return false, ""
	}
	return body.ErrorType == promv1.ErrTimeout || body.ErrorType == promv1.ErrCanceled, body.Error
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// authTransport adds the credentials to each request and turns a refusal
// of them into an Unauthorized error.
type authTransport struct {
	next  http.RoundTripper
	creds func(ctx context.Context) (Credentials, error)
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.creds != nil {
		c, err := t.creds(req.Context())
		if err != nil {
			return nil, &Error{Kind: Unauthorized, Message: "reading the Prometheus credentials: " + err.Error(), Err: err}
		}
		req = req.Clone(req.Context())
		switch {
		case c.BearerToken != "":
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(c.BearerToken))
		case c.Username != "":
			req.SetBasicAuth(c.Username, c.Password)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		_ = resp.Body.Close()
		return nil, &Error{Kind: Unauthorized, Message: fmt.Sprintf("Prometheus refused the credentials (%s)", resp.Status)}
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxResponseBytes}
	return resp, nil
}

// maxResponseBytes bounds what one answer may make the manager read: a
// measure is one series, and a query that matches millions must not exhaust
// its memory before it is refused.
const maxResponseBytes = 16 << 20

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, &Error{Kind: MultipleSeries, Message: fmt.Sprintf("the answer is larger than %d MiB: the query returns far more than one series; aggregate it", maxResponseBytes>>20)}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// TLSConfig builds a client TLS configuration from PEM files: a CA bundle
// and, optionally, a client certificate and key. Empty names are skipped.
func TLSConfig(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	if caFile == "" && certFile == "" && !insecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // an explicit flag
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Unconfigured is the Source of a manager started without a Prometheus
// address: every read fails with NotConfigured.
type Unconfigured struct{}

func (Unconfigured) Query(context.Context, string, string, time.Time) (float64, error) {
	return 0, errNotConfigured
}

func (Unconfigured) Mean(context.Context, string, string, time.Time, time.Time) (float64, error) {
	return 0, errNotConfigured
}

var errNotConfigured = &Error{Kind: NotConfigured, Message: "the manager was started without --prometheus-address: measures cannot be read"}
