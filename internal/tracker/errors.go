package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// RateLimitError means GitHub's primary or secondary rate limit, or cxloop's
// own write budget, is exhausted. No request is sent before ResumeAt; the
// operation failed as a whole and can simply be retried at ResumeAt.
type RateLimitError struct {
	ResumeAt  time.Time
	Secondary bool // GitHub's secondary (abuse) limit rather than the hourly primary limit
	// Budget is true when cxloop's own write budget (Config.WritesPerMinute)
	// rather than GitHub refused the request.
	Budget  bool
	Message string
}

func (e *RateLimitError) Error() string {
	kind := "primary"
	switch {
	case e.Budget:
		kind = "write budget"
	case e.Secondary:
		kind = "secondary"
	}
	msg := fmt.Sprintf("GitHub %s rate limit exceeded; resume at %s", kind, e.ResumeAt.UTC().Format(time.RFC3339))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// RetryAfter returns how long to wait from now until ResumeAt (at least 0).
func (e *RateLimitError) RetryAfter(now time.Time) time.Duration {
	if d := e.ResumeAt.Sub(now); d > 0 {
		return d
	}
	return 0
}

// APIError is an error answer from GitHub that a person can act on.
type APIError struct {
	Reason     string // CamelCase, e.g. BadCredentials, RepositoryNotFound, IssuesDisabled, ValidationFailed, ServerError
	StatusCode int
	Message    string // cxloop's words for the answer plus validation errors' resource.field: code; never the answer's text
}

func (e *APIError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("GitHub: %s: %s", e.Reason, e.Message)
	}
	return fmt.Sprintf("GitHub %d %s: %s", e.StatusCode, e.Reason, e.Message)
}

// Retryable reports whether the same request may succeed later unchanged.
func (e *APIError) Retryable() bool { return e.StatusCode >= 500 || e.StatusCode == 0 }

// Reason returns a CamelCase reason for any error, suitable for a condition
// reason or an Event reason. It returns "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var rl *RateLimitError
	var ae *APIError
	var ce *CredentialsError
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		return cxv1.ReasonRateLimited
	case errors.As(err, &ae):
		return ae.Reason
	case errors.As(err, &ce):
		return cxv1.ReasonInvalidCredentials
	case errors.Is(err, context.DeadlineExceeded):
		return cxv1.ReasonTimeout
	case errors.Is(err, context.Canceled):
		return cxv1.ReasonCanceled
	case errors.As(err, &ne) && ne.Timeout():
		return cxv1.ReasonTimeout
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return cxv1.ReasonNetworkError
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return cxv1.ReasonNetworkError
	}
	return cxv1.ReasonInternalError
}

// NotCreated reports whether a failed EnsureIssue provably created nothing
// on GitHub: its request was never sent, or GitHub refused it with a 4xx.
// Anything else (a dropped answer, a timeout, a 5xx) may have created it.
func NotCreated(err error) bool { return isDefiniteFailure(err) }

// isDefiniteFailure reports whether err proves that a write did not happen:
// it was never sent (rate limit, budget, bad input) or GitHub refused it with a 4xx.
func isDefiniteFailure(err error) bool {
	var ns *notSentError
	if errors.As(err, &ns) {
		return true
	}
	var rl *RateLimitError
	var ae *APIError
	var ce *CredentialsError
	switch {
	case errors.As(err, &rl), errors.As(err, &ce):
		return true
	case errors.As(err, &ae):
		return ae.StatusCode >= 400 && ae.StatusCode < 500
	}
	return false
}

// opKind tells mapError which resource a 404 refers to.
type opKind int

const (
	opRepo  opKind = iota // repository-level endpoint: 404 means the repository
	opIssue               // issue-level endpoint: 404 means the issue (or repository)
)

// mapError turns anything go-github, ghinstallation or the transport returned
// into a typed error. secrets are redacted from every message.
func (c *Client) mapError(err error, op opKind) error {
	if err == nil {
		return nil
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var ghRL *github.RateLimitError
	if errors.As(err, &ghRL) {
		return &RateLimitError{ResumeAt: ghRL.Rate.Reset.Time}
	}
	var ghAbuse *github.AbuseRateLimitError
	if errors.As(err, &ghAbuse) {
		d := time.Minute
		if ghAbuse.RetryAfter != nil {
			d = *ghAbuse.RetryAfter
		}
		return &RateLimitError{ResumeAt: c.now().Add(d), Secondary: true}
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return c.apiError(er.Response.StatusCode, er.Message, er.Errors, op)
	}
	var tfa *github.TwoFactorAuthError
	if errors.As(err, &tfa) {
		return c.apiError(http.StatusUnauthorized, tfa.Message, nil, op)
	}
	var hi *ghinstallation.HTTPError
	if errors.As(err, &hi) && hi.Response != nil {
		// The answer's text is not kept: see apiError.
		if hi.Response.Body != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(hi.Response.Body, 64<<10))
			hi.Response.Body.Close()
		}
		code := hi.Response.StatusCode
		reason := cxv1.ReasonBadCredentials
		switch {
		case code == http.StatusNotFound:
			reason = cxv1.ReasonInstallationNotFound
		case code >= 500:
			reason = cxv1.ReasonServerError
		case code == http.StatusForbidden:
			reason = cxv1.ReasonForbidden
		}
		return &APIError{Reason: reason, StatusCode: code, Message: fmt.Sprintf("the GitHub App installation token request was refused (%s)", http.StatusText(code))}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	var ce *CredentialsError
	if errors.As(err, &ce) {
		return ce
	}
	// Transport errors: keep them wrapped (net.Error etc.) but make sure no
	// secret could leak through their text.
	if c.containsSecret(err.Error()) {
		return &redactedError{msg: c.redact(err.Error()), err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// apiError types an error answer. Its message is cxloop's own words for
// the status code, never the answer's text: whatever a host answers ends up
// in conditions and Events that tenants read, and copying it would turn
// cxloop into a probe of the network it runs in. Of the answer only the
// machine-readable parts of validation errors (resource.field: code) are
// kept, when they are plain identifiers. The text still decides between
// reasons (a deleted issue and disabled issues are both 410).
func (c *Client) apiError(code int, message string, details []github.Error, op opKind) *APIError {
	lower := strings.ToLower(message)
	var reason, words string
	switch {
	case code == http.StatusUnauthorized:
		reason, words = cxv1.ReasonBadCredentials, "the credentials were refused: check the token or GitHub App in the Secret named by spec.tracker.github.secretRef"
	case code == http.StatusNotFound && op == opIssue:
		reason, words = cxv1.ReasonIssueNotFound, "the issue does not exist, or the credentials cannot see it"
	case code == http.StatusNotFound:
		reason, words = cxv1.ReasonRepositoryNotFound, "the repository does not exist, or the credentials cannot see it: check spec.tracker.github.owner and repo, and the credentials' access"
	case code == http.StatusGone && strings.Contains(lower, "deleted"):
		reason, words = cxv1.ReasonIssueDeleted, "the issue was deleted"
	case code == http.StatusGone:
		reason, words = cxv1.ReasonIssuesDisabled, "issues are disabled in the repository"
	case code == http.StatusUnprocessableEntity:
		reason, words = cxv1.ReasonValidationFailed, "Validation Failed"
	case code == http.StatusForbidden && strings.Contains(lower, "locked"):
		reason, words = cxv1.ReasonForbidden, "the issue is locked"
	case code == http.StatusForbidden:
		reason, words = cxv1.ReasonForbidden, "the credentials may not do this: they need the Issues permission, read & write"
	case code >= 500:
		reason, words = cxv1.ReasonServerError, "GitHub failed to answer"
	default:
		reason, words = cxv1.ReasonUnexpectedStatus, http.StatusText(code)
	}
	var parts []string
	for _, d := range details {
		field := identifier(d.Field)
		if r := identifier(d.Resource); r != "" && field != "" {
			field = r + "." + field
		} else if r != "" {
			field = r
		}
		var p string
		switch code := identifier(d.Code); {
		case field != "" && code != "":
			p = field + ": " + code
		case code != "":
			p = code
		default:
			p = field
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		words += ": " + strings.Join(parts, "; ")
	}
	return &APIError{Reason: reason, StatusCode: code, Message: c.redact(words)}
}

// identifier returns s when it is a plain identifier (letters, digits,
// . _ -, at most 60 characters), and "" otherwise.
func identifier(s string) string {
	if len(s) > 60 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return ""
		}
	}
	return s
}

func (c *Client) secrets() []string {
	var s []string
	if c.cfg.Credentials.Token != "" {
		s = append(s, c.cfg.Credentials.Token)
	}
	return s
}

func (c *Client) containsSecret(s string) bool {
	for _, sec := range c.secrets() {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return strings.Contains(s, "PRIVATE KEY")
}

func (c *Client) redact(s string) string {
	for _, sec := range c.secrets() {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	if i := strings.Index(s, "-----BEGIN"); i >= 0 {
		s = s[:i] + "[redacted]"
	}
	return s
}

// notSentError is a failure before a write was sent (the listing that
// precedes every create failed): nothing can have been created.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }
