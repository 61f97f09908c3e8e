package tracker

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/cxloop/cxloop/internal/redact"
)

// Where credentials may be sent, and which Secrets may hold them.
const (
	// DefaultAllowedHosts is the operator's allowlist of GitHub API hosts
	// when --github-allowed-hosts is not given.
	DefaultAllowedHosts = "api.github.com"
	// CredentialsLabel marks a Secret whose owner lets cxloop use it as
	// GitHub credentials; its value must be CredentialsLabelValue.
	CredentialsLabel      = "cx.cxloop.dev/credentials"
	CredentialsLabelValue = "github"
	// SecretKeyAllowedHosts optionally narrows, in the Secret, where its
	// credentials may be sent: comma-separated host[:port], each also in
	// the operator's allowlist.
	SecretKeyAllowedHosts = "allowedHosts"
)

// ParseAllowedHosts reads a comma-separated list of host[:port] (blanks
// ignored, lower-cased). It refuses anything else: a scheme, a path, user
// info, a wildcard.
func ParseAllowedHosts(list string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(list, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/@*?# ") {
			return nil, fmt.Errorf("%q is not a host[:port] (no scheme, path, user or wildcard)", h)
		}
		host, port := h, ""
		if hp, p, err := net.SplitHostPort(h); err == nil {
			host, port = hp, p
		} else if strings.Count(h, ":") == 1 {
			return nil, fmt.Errorf("%q is not a host[:port]", h)
		}
		host = strings.Trim(host, "[]")
		if host == "" {
			return nil, fmt.Errorf("%q has no host", h)
		}
		if port != "" {
			if n, err := parsePort(port); err != nil || n == 0 {
				return nil, fmt.Errorf("%q has an invalid port", h)
			}
		}
		out = append(out, joinHostPort(host, port))
	}
	return out, nil
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("out of range")
		}
	}
	return n, nil
}

func joinHostPort(host, port string) string {
	if port == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// IsLoopback reports whether host (without port) names this machine:
// localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.Trim(strings.ToLower(host), "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HostNotAllowedError refuses an API URL before any request is sent to it.
type HostNotAllowedError struct {
	// URL is the API URL, its user info redacted.
	URL string
	// Why says what is wrong and what to do.
	Why string
}

func (e *HostNotAllowedError) Error() string { return fmt.Sprintf("%s: %s", e.URL, e.Why) }

// CheckAPIURL decides, before any request, whether credentials may be sent
// to apiURL ("" means https://api.github.com/): its scheme must be https
// (http only to a loopback host, for local use), it carries no user info,
// and its host[:port] is in allowed and, when the Secret narrows it, in
// secretAllowed too. An entry without a port allows the scheme's default
// port only (443 for https, 80 for http).
func CheckAPIURL(apiURL string, allowed, secretAllowed []string) error {
	if apiURL == "" {
		apiURL = defaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &HostNotAllowedError{URL: redact.URL(apiURL), Why: "is not an http(s) URL with a host"}
	}
	shown := redact.URL(apiURL)
	if u.User != nil {
		return &HostNotAllowedError{URL: shown, Why: "carries user info; credentials belong in the Secret named by spec.tracker.github.secretRef"}
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "http" && !IsLoopback(host) {
		return &HostNotAllowedError{URL: shown, Why: "uses http; credentials are sent over https only (http is allowed to a loopback host, for local use)"}
	}
	if !hostAllowed(u, allowed) {
		return &HostNotAllowedError{URL: shown, Why: fmt.Sprintf("host %s is not among the GitHub API hosts this cxloop may send credentials to (%s); use one of them, or ask the cluster admin to add it to --github-allowed-hosts", joinHostPort(host, u.Port()), strings.Join(allowed, ", "))}
	}
	if secretAllowed != nil && !hostAllowed(u, secretAllowed) {
		return &HostNotAllowedError{URL: shown, Why: fmt.Sprintf("host %s is not among the hosts the credentials Secret allows in its key %q (%s)", joinHostPort(host, u.Port()), SecretKeyAllowedHosts, strings.Join(secretAllowed, ", "))}
	}
	return nil
}

func hostAllowed(u *url.URL, allowed []string) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	def := "443"
	if u.Scheme == "http" {
		def = "80"
	}
	if port == "" {
		port = def
	}
	for _, a := range allowed {
		ah, ap := a, ""
		if h, p, err := net.SplitHostPort(a); err == nil {
			ah, ap = h, p
		}
		ah = strings.Trim(ah, "[]")
		if ap == "" {
			ap = def
		}
		if ah == host && ap == port {
			return true
		}
	}
	return false
}

// SecretRefusedError refuses a Secret as GitHub credentials: it has not
// opted in, or it is of a type that must never leave the cluster.
type SecretRefusedError struct {
	Secret string // namespace/name
	Why    string
}

func (e *SecretRefusedError) Error() string { return fmt.Sprintf("Secret %s %s", e.Secret, e.Why) }

// CheckCredentialsSecret refuses a Secret that has not opted in with the
// label cx.cxloop.dev/credentials=github, or that is a service-account
// token: those belong to the cluster, never to GitHub.
func CheckCredentialsSecret(s *corev1.Secret) error {
	name := s.Namespace + "/" + s.Name
	if s.Type == corev1.SecretTypeServiceAccountToken {
		return &SecretRefusedError{Secret: name, Why: fmt.Sprintf("is of type %s: service-account tokens are never sent to GitHub; put the GitHub credentials in an Opaque Secret", corev1.SecretTypeServiceAccountToken)}
	}
	if s.Labels[CredentialsLabel] != CredentialsLabelValue {
		return &SecretRefusedError{Secret: name, Why: fmt.Sprintf("does not carry the label %s=%s: add it to let cxloop use the Secret as GitHub credentials", CredentialsLabel, CredentialsLabelValue)}
	}
	return nil
}

// SecretAllowedHosts returns the Secret's own narrowing of where its
// credentials may go (key allowedHosts), or nil when it has none.
func SecretAllowedHosts(s *corev1.Secret) ([]string, error) {
	raw, ok := s.Data[SecretKeyAllowedHosts]
	if !ok {
		if v, ok2 := s.StringData[SecretKeyAllowedHosts]; ok2 {
			raw, ok = []byte(v), true
		}
	}
	if !ok {
		return nil, nil
	}
	hosts, err := ParseAllowedHosts(string(raw))
	if err != nil {
		return nil, &CredentialsError{Secret: s.Namespace + "/" + s.Name, Key: SecretKeyAllowedHosts, Reason: err.Error()}
	}
	if hosts == nil {
		hosts = []string{} // present but empty: allows nothing
	}
	return hosts, nil
}
