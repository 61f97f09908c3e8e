package tracker

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Secret keys read by CredentialsFromSecret.
const (
	SecretKeyToken          = "token"
	SecretKeyAppID          = "appID"
	SecretKeyInstallationID = "installationID"
	SecretKeyPrivateKey     = "privateKey"
)

// Credentials authenticate cxloop to GitHub: either a token (personal access
// token, fine-grained token or installation token) or a GitHub App
// (AppID, InstallationID and the App's PEM private key).
//
// The secret parts never appear in any printed form: String, GoString,
// Format (every fmt verb), MarshalJSON and LogValue all redact them.
type Credentials struct {
	Token          string
	AppID          int64
	InstallationID int64
	PrivateKey     []byte
}

// IsApp reports whether the credentials are GitHub App credentials.
func (c Credentials) IsApp() bool { return c.Token == "" && c.AppID != 0 }

func (c Credentials) redacted() string {
	switch {
	case c.Token != "":
		return "tracker.Credentials{Token: [redacted]}"
	case c.AppID != 0 || c.InstallationID != 0 || len(c.PrivateKey) > 0:
		pk := "none"
		if len(c.PrivateKey) > 0 {
			pk = "[redacted]"
		}
		return fmt.Sprintf("tracker.Credentials{AppID: %d, InstallationID: %d, PrivateKey: %s}", c.AppID, c.InstallationID, pk)
	default:
		return "tracker.Credentials{}"
	}
}

// String implements fmt.Stringer without revealing secrets.
func (c Credentials) String() string { return c.redacted() }

// GoString implements fmt.GoStringer without revealing secrets.
func (c Credentials) GoString() string { return c.redacted() }

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %s, %x, %d, ...)
// prints a secret.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.redacted())) }

// MarshalJSON implements json.Marshaler without revealing secrets.
func (c Credentials) MarshalJSON() ([]byte, error) {
	kind := "none"
	switch {
	case c.Token != "":
		kind = "token"
	case c.AppID != 0:
		kind = "app"
	}
	return []byte(fmt.Sprintf(`{"kind":%q,"appID":%d,"installationID":%d}`, kind, c.AppID, c.InstallationID)), nil
}

// LogValue implements slog.LogValuer without revealing secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.redacted()) }

// CredentialsError reports a missing or malformed credential. It names the
// offending key, never its value.
type CredentialsError struct {
	Secret string // namespace/name of the Secret, if any
	Key    string
	Reason string
}

func (e *CredentialsError) Error() string {
	where := "credentials"
	if e.Secret != "" {
		where = "secret " + e.Secret
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", where, e.Reason)
	}
	return fmt.Sprintf("%s: key %q %s", where, e.Key, e.Reason)
}

// CredentialsFromSecret reads credentials from a Secret. It accepts either the
// key "token", or the keys "appID", "installationID" and "privateKey" (PEM RSA
// key). A missing or malformed key is reported by name, never by value.
func CredentialsFromSecret(s *corev1.Secret) (Credentials, error) {
	if s == nil {
		return Credentials{}, &CredentialsError{Reason: "no secret given"}
	}
	name := s.Name
	if s.Namespace != "" {
		name = s.Namespace + "/" + s.Name
	}
	get := func(k string) (string, bool) {
		if v, ok := s.Data[k]; ok {
			return string(v), true
		}
		if v, ok := s.StringData[k]; ok {
			return v, true
		}
		return "", false
	}
	fail := func(key, reason string) (Credentials, error) {
		return Credentials{}, &CredentialsError{Secret: name, Key: key, Reason: reason}
	}
	if s.Type == corev1.SecretTypeServiceAccountToken {
		return fail("", fmt.Sprintf("is of type %s: service-account tokens are never sent to GitHub", corev1.SecretTypeServiceAccountToken))
	}

	token, hasToken := get(SecretKeyToken)
	_, hasApp := get(SecretKeyAppID)
	_, hasInst := get(SecretKeyInstallationID)
	_, hasKey := get(SecretKeyPrivateKey)
	anyApp := hasApp || hasInst || hasKey

	if hasToken && anyApp {
		return fail("", fmt.Sprintf("has both key %q and GitHub App keys; keep only one kind of credentials", SecretKeyToken))
	}
	if hasToken {
		token = strings.TrimSpace(token)
		if token == "" {
			return fail(SecretKeyToken, "is empty")
		}
		if strings.ContainsAny(token, " \t\r\n") {
			return fail(SecretKeyToken, "contains whitespace")
		}
		return Credentials{Token: token}, nil
	}
	if !anyApp {
		return fail(SecretKeyToken, fmt.Sprintf("is missing (or give keys %q, %q and %q for a GitHub App)",
			SecretKeyAppID, SecretKeyInstallationID, SecretKeyPrivateKey))
	}
	var c Credentials
	for _, k := range []string{SecretKeyAppID, SecretKeyInstallationID} {
		v, ok := get(k)
		if !ok {
			return fail(k, "is missing")
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return fail(k, "is not a positive integer")
		}
		if k == SecretKeyAppID {
			c.AppID = n
		} else {
			c.InstallationID = n
		}
	}
	pk, ok := get(SecretKeyPrivateKey)
	if !ok {
		return fail(SecretKeyPrivateKey, "is missing")
	}
	if _, err := parseRSAPrivateKey([]byte(pk)); err != nil {
		return fail(SecretKeyPrivateKey, "is not a PEM-encoded RSA private key")
	}
	c.PrivateKey = []byte(pk)
	return c, nil
}

func parseRSAPrivateKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not an RSA private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA private key")
	}
	return rk, nil
}

func (c Credentials) validate() error {
	switch {
	case c.Token != "" && (c.AppID != 0 || c.InstallationID != 0 || len(c.PrivateKey) > 0):
		return &CredentialsError{Reason: "both a token and GitHub App credentials given"}
	case c.Token != "":
		return nil
	case c.AppID == 0 && c.InstallationID == 0 && len(c.PrivateKey) == 0:
		return &CredentialsError{Key: SecretKeyToken, Reason: "is missing"}
	case c.AppID <= 0:
		return &CredentialsError{Key: SecretKeyAppID, Reason: "is missing"}
	case c.InstallationID <= 0:
		return &CredentialsError{Key: SecretKeyInstallationID, Reason: "is missing"}
	}
	if _, err := parseRSAPrivateKey(c.PrivateKey); err != nil {
		return &CredentialsError{Key: SecretKeyPrivateKey, Reason: "is not a PEM-encoded RSA private key"}
	}
	return nil
}
