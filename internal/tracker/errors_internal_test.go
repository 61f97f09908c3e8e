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
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"
)

const errTestToken = "ghp_ERRORSTEST_0123456789abcdef"

// errorClient is a Client whose clock stands at base; its server is never
// asked (mapError is called directly).
func errorClient(t *testing.T, base time.Time) *Client {
	t.Helper()
	c, calls := statusClient(t, errTestToken, clocktesting.NewFakeClock(base).Now, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	})
	t.Cleanup(func() {
		if *calls != 0 {
			t.Errorf("%d requests sent", *calls)
		}
	})
	return c
}

// answer is an HTTP answer of status for go-github's and ghinstallation's
// error types.
func answer(status int) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/x"}}}
}

func ghError(status int, message string, details ...github.Error) error {
	return &github.ErrorResponse{Response: answer(status), Message: message, Errors: details}
}

// closeRecorder is a response body that records being read to the end and
// closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (r *closeRecorder) Close() error { r.closed = true; return nil }

func TestMapErrorTypesEveryAnswer(t *testing.T) {
	base := time.Unix(1_900_000_000, 0)
	c := errorClient(t, base)
	for _, tc := range []struct {
		name   string
		err    error
		op     opKind
		reason string
		status int
		// words must appear in the message; the token never may.
		words string
	}{
		{"401", ghError(401, "Bad credentials "+errTestToken), opRepo, cxv1.ReasonBadCredentials, 401, "spec.tracker.github.secretRef"},
		{"404 repository", ghError(404, "Not Found"), opRepo, cxv1.ReasonRepositoryNotFound, 404, "spec.tracker.github.owner"},
		{"404 issue", ghError(404, "Not Found"), opIssue, cxv1.ReasonIssueNotFound, 404, "the issue does not exist"},
		{"410 deleted in capitals", ghError(410, "This issue was DELETED"), opIssue, cxv1.ReasonIssueDeleted, 410, "was deleted"},
		{"410 disabled", ghError(410, "Issues are disabled for this repo"), opIssue, cxv1.ReasonIssuesDisabled, 410, "disabled"},
		{"422", ghError(422, "Validation Failed"), opRepo, cxv1.ReasonValidationFailed, 422, "Validation Failed"},
		{"403 locked", ghError(403, "Issue is Locked"), opIssue, cxv1.ReasonForbidden, 403, "the issue is locked"},
		{"403 other", ghError(403, "Resource not accessible by integration"), opIssue, cxv1.ReasonForbidden, 403, "Issues permission"},
		{"500", ghError(500, ""), opRepo, cxv1.ReasonServerError, 500, "GitHub failed to answer"},
		{"502", ghError(502, "Bad Gateway"), opIssue, cxv1.ReasonServerError, 502, "GitHub failed to answer"},
		{"599", ghError(599, ""), opRepo, cxv1.ReasonServerError, 599, "GitHub failed to answer"},
		{"418", ghError(418, "short and stout"), opRepo, cxv1.ReasonUnexpectedStatus, 418, "I'm a teapot"},
		{"409", ghError(409, "Git Repository is empty"), opIssue, cxv1.ReasonUnexpectedStatus, 409, "Conflict"},
		{"wrapped 404", fmt.Errorf("listing: %w", ghError(404, "Not Found")), opRepo, cxv1.ReasonRepositoryNotFound, 404, "repository"},
		{"two-factor", &github.TwoFactorAuthError{Response: answer(401), Message: "Must specify two-factor authentication OTP code."}, opRepo, cxv1.ReasonBadCredentials, 401, "credentials were refused"},
		{"installation 404", &ghinstallation.HTTPError{Message: "received non 2xx", Response: answer(404)}, opRepo, cxv1.ReasonInstallationNotFound, 404, "installation token request was refused (Not Found)"},
		{"installation 401", &ghinstallation.HTTPError{Response: answer(401)}, opRepo, cxv1.ReasonBadCredentials, 401, "(Unauthorized)"},
		{"installation 422", &ghinstallation.HTTPError{Response: answer(422)}, opRepo, cxv1.ReasonBadCredentials, 422, "(Unprocessable Entity)"},
		{"installation 403", &ghinstallation.HTTPError{Response: answer(403)}, opRepo, cxv1.ReasonForbidden, 403, "(Forbidden)"},
		{"installation 503", &ghinstallation.HTTPError{Response: answer(503)}, opRepo, cxv1.ReasonServerError, 503, "(Service Unavailable)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.mapError(tc.err, tc.op)
			var ae *APIError
			if !errors.As(got, &ae) {
				t.Fatalf("mapError = %T %v, want an *APIError", got, got)
			}
			if ae.Reason != tc.reason || ae.StatusCode != tc.status || Reason(got) != tc.reason {
				t.Errorf("got %s %d (Reason %q), want %s %d", ae.Reason, ae.StatusCode, Reason(got), tc.reason, tc.status)
			}
			if !strings.Contains(ae.Message, tc.words) {
				t.Errorf("message %q lacks %q", ae.Message, tc.words)
			}
			if strings.Contains(got.Error(), errTestToken) {
				t.Errorf("message reveals the token: %q", got)
			}
			if ae.Retryable() != (tc.status >= 500) {
				t.Errorf("Retryable = %v for %d", ae.Retryable(), tc.status)
			}
		})
	}
}

func TestMapErrorNeverKeepsTheAnswersText(t *testing.T) {
	c := errorClient(t, time.Unix(1_900_000_000, 0))
	for _, status := range []int{401, 403, 404, 410, 418, 422, 500} {
		text := "see http://10.0.0.7:8080/admin <b>internal</b>"
		got := c.mapError(ghError(status, text), opRepo)
		if strings.Contains(got.Error(), "10.0.0.7") || strings.Contains(got.Error(), "<b>") {
			t.Errorf("%d: the answer's text reached the error: %q", status, got)
		}
	}
}

func TestMapErrorDrainsAndClosesTheInstallationAnswer(t *testing.T) {
	c := errorClient(t, time.Unix(1_900_000_000, 0))
	body := &closeRecorder{Reader: strings.NewReader(`{"message":"Integration not found","secret":"` + errTestToken + `"}`)}
	resp := answer(404)
	resp.Body = body
	got := c.mapError(&ghinstallation.HTTPError{Message: "received non 2xx response status " + errTestToken, Response: resp}, opRepo)
	if Reason(got) != cxv1.ReasonInstallationNotFound {
		t.Fatalf("mapError = %v", got)
	}
	if !body.closed {
		t.Error("the installation answer's body was not closed")
	}
	if n, _ := body.Read(make([]byte, 1)); n != 0 {
		t.Error("the installation answer's body was not read to its end")
	}
	if strings.Contains(got.Error(), errTestToken) || strings.Contains(got.Error(), "Integration not found") {
		t.Errorf("the answer's text reached the error: %q", got)
	}
}

func TestMapErrorRateLimits(t *testing.T) {
	base := time.Unix(1_900_000_000, 0)
	c := errorClient(t, base)
	retry := 90 * time.Second
	reset := base.Add(17 * time.Minute)
	own := &RateLimitError{ResumeAt: base.Add(time.Hour), Budget: true}
	for _, tc := range []struct {
		name      string
		err       error
		resume    time.Time
		secondary bool
	}{
		{"primary", &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: reset}}, Response: answer(403)}, reset, false},
		{"secondary with Retry-After", &github.AbuseRateLimitError{Response: answer(403), RetryAfter: &retry}, base.Add(retry), true},
		{"secondary without Retry-After", &github.AbuseRateLimitError{Response: answer(429)}, base.Add(time.Minute), true},
		{"wrapped secondary", fmt.Errorf("x: %w", &github.AbuseRateLimitError{Response: answer(403), RetryAfter: &retry}), base.Add(retry), true},
		{"cxloop's own", fmt.Errorf("x: %w", own), own.ResumeAt, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.mapError(tc.err, opIssue)
			var rl *RateLimitError
			if !errors.As(got, &rl) {
				t.Fatalf("mapError = %T %v", got, got)
			}
			if !rl.ResumeAt.Equal(tc.resume) || rl.Secondary != tc.secondary {
				t.Errorf("ResumeAt %v secondary %v, want %v %v", rl.ResumeAt, rl.Secondary, tc.resume, tc.secondary)
			}
			if Reason(got) != cxv1.ReasonRateLimited || !NotCreated(got) {
				t.Errorf("Reason %q NotCreated %v", Reason(got), NotCreated(got))
			}
		})
	}
	if got := c.mapError(fmt.Errorf("x: %w", own), opRepo); got != own {
		t.Errorf("cxloop's own limit was not returned as it is: %v", got)
	}
}

func TestMapErrorPassesOtherFailuresThrough(t *testing.T) {
	c := errorClient(t, time.Unix(1_900_000_000, 0))
	plain := errors.New("dial tcp 192.0.2.1:443: connect: connection refused")
	creds := &CredentialsError{Key: "token"}
	ae := &APIError{Reason: cxv1.ReasonIssuesDisabled, StatusCode: 410}
	noAnswer := &github.ErrorResponse{Message: "no response"}
	for _, tc := range []struct {
		name   string
		err    error
		same   error // mapError returns exactly this
		reason string
	}{
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), nil, cxv1.ReasonTimeout},
		{"canceled", &url.Error{Op: "Get", URL: "https://api.github.com/x", Err: context.Canceled}, nil, cxv1.ReasonCanceled},
		{"credentials", fmt.Errorf("loading: %w", creds), creds, cxv1.ReasonInvalidCredentials},
		{"typed already", fmt.Errorf("x: %w", ae), ae, cxv1.ReasonIssuesDisabled},
		{"transport error", plain, plain, cxv1.ReasonInternalError},
		{"error answer without a response", noAnswer, noAnswer, cxv1.ReasonInternalError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.mapError(tc.err, opRepo)
			if tc.same != nil && got != tc.same {
				t.Errorf("mapError = %#v, want %#v itself", got, tc.same)
			}
			if !errors.Is(got, tc.err) && got != tc.same {
				t.Errorf("mapError lost the error: %v", got)
			}
			if Reason(got) != tc.reason {
				t.Errorf("Reason = %q, want %q", Reason(got), tc.reason)
			}
		})
	}
	if c.mapError(nil, opRepo) != nil {
		t.Error("mapError(nil) is not nil")
	}
}

func TestMapErrorRedactsSecretsFromTransportErrors(t *testing.T) {
	c := errorClient(t, time.Unix(1_900_000_000, 0))
	for _, tc := range []struct {
		name, text, want string
	}{
		{"token", "Get https://x/?access_token=" + errTestToken + ": EOF", "Get https://x/?access_token=[redacted]: EOF: unexpected EOF"},
		{"token twice", errTestToken + " " + errTestToken, "[redacted] [redacted]: unexpected EOF"},
		// Everything from the key's first line on is cut.
		{"private key", "parsing key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----", "parsing key: [redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := fmt.Errorf("%s: %w", tc.text, io.ErrUnexpectedEOF)
			got := c.mapError(orig, opRepo)
			if got.Error() != tc.want {
				t.Errorf("error = %q, want %q", got, tc.want)
			}
			if !errors.Is(got, io.ErrUnexpectedEOF) || Reason(got) != cxv1.ReasonNetworkError {
				t.Errorf("the redacted error hides its cause: Reason %q", Reason(got))
			}
		})
	}
}

func TestValidationDetailsKeepOnlyIdentifiers(t *testing.T) {
	c := errorClient(t, time.Unix(1_900_000_000, 0))
	long := strings.Repeat("a", 61)
	for _, tc := range []struct {
		name    string
		details []github.Error
		want    string
	}{
		{"none", nil, "Validation Failed"},
		{"resource, field and code", []github.Error{{Resource: "Issue", Field: "title", Code: "missing_field"}}, "Validation Failed: Issue.title: missing_field"},
		{"resource and code", []github.Error{{Resource: "Label", Code: "invalid"}}, "Validation Failed: Label: invalid"},
		{"field and code", []github.Error{{Field: "labels", Code: "too_long"}}, "Validation Failed: labels: too_long"},
		{"code only", []github.Error{{Code: "custom", Message: "free text"}}, "Validation Failed: custom"},
		{"field only", []github.Error{{Field: "body"}}, "Validation Failed: body"},
		{"several", []github.Error{{Field: "a", Code: "x"}, {Field: "b", Code: "y"}}, "Validation Failed: a: x; b: y"},
		{"hostile resource dropped", []github.Error{{Resource: "<img src=x>", Field: "title", Code: "invalid"}}, "Validation Failed: title: invalid"},
		{"hostile code dropped", []github.Error{{Field: "title", Code: "see http://evil"}}, "Validation Failed: title"},
		{"nothing plain", []github.Error{{Resource: "a b", Field: "c\nd", Code: "e/f", Message: "text"}}, "Validation Failed"},
		{"61 characters dropped", []github.Error{{Field: long, Code: "invalid"}}, "Validation Failed: invalid"},
		{"60 characters kept", []github.Error{{Field: long[:60], Code: "invalid"}}, "Validation Failed: " + long[:60] + ": invalid"},
		{"token in a field", []github.Error{{Field: errTestToken, Code: "invalid"}}, "Validation Failed: [redacted]: invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.mapError(ghError(422, "Validation Failed", tc.details...), opIssue)
			var ae *APIError
			if !errors.As(got, &ae) || ae.Message != tc.want {
				t.Errorf("message = %q, want %q", ae.Message, tc.want)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestReasonOfEveryKindOfFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"canceled", context.Canceled, cxv1.ReasonCanceled},
		{"wrapped deadline", fmt.Errorf("a: %w", context.DeadlineExceeded), cxv1.ReasonTimeout},
		{"net timeout", &url.Error{Op: "Get", URL: "u", Err: timeoutError{}}, cxv1.ReasonTimeout},
		{"net error", refused, cxv1.ReasonNetworkError},
		{"EOF", fmt.Errorf("reading: %w", io.EOF), cxv1.ReasonNetworkError},
		{"url error", &url.Error{Op: "Get", URL: "u", Err: errors.New("malformed HTTP response")}, cxv1.ReasonNetworkError},
		{"permission", fmt.Errorf("board: %w", &PermissionError{Resource: "project a/1"}), cxv1.ReasonPermissionMissing},
		{"rate limit before anything sent", &notSentError{&RateLimitError{}}, cxv1.ReasonRateLimited},
		{"not sent", &notSentError{errors.New("budget store down")}, cxv1.ReasonInternalError},
		{"rate limit beats its API error", fmt.Errorf("%w %w", &APIError{Reason: "X"}, &RateLimitError{}), cxv1.ReasonRateLimited},
		{"API error beats the timeout", fmt.Errorf("%w %w", context.DeadlineExceeded, &APIError{Reason: cxv1.ReasonServerError}), cxv1.ReasonServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reason(tc.err); got != tc.want {
				t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestNotCreated(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not sent", &notSentError{errors.New("listing failed")}, true},
		{"rate limited", fmt.Errorf("x: %w", &RateLimitError{}), true},
		{"credentials", &CredentialsError{Key: "token"}, true},
		{"400", &APIError{StatusCode: 400}, true},
		{"422", &APIError{StatusCode: 422}, true},
		{"499", &APIError{StatusCode: 499}, true},
		{"permission", &PermissionError{}, true},
		{"500", &APIError{StatusCode: 500}, false},
		{"no status", &APIError{Reason: cxv1.ReasonInvalidRequest}, false},
		{"399", &APIError{StatusCode: 399}, false},
		{"dropped answer", io.ErrUnexpectedEOF, false},
		{"timeout", context.DeadlineExceeded, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NotCreated(tc.err); got != tc.want {
				t.Errorf("NotCreated(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorTexts(t *testing.T) {
	at := time.Date(2027, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&RateLimitError{ResumeAt: at}, "GitHub primary rate limit exceeded; resume at 2027-03-01T11:30:00Z"},
		{&RateLimitError{ResumeAt: at, Secondary: true, Message: "slow down"}, "GitHub secondary rate limit exceeded; resume at 2027-03-01T11:30:00Z: slow down"},
		{&RateLimitError{ResumeAt: at, Secondary: true, Budget: true}, "GitHub write budget rate limit exceeded; resume at 2027-03-01T11:30:00Z"},
		{&APIError{Reason: cxv1.ReasonInvalidRequest, Message: "no owner"}, "GitHub: InvalidRequest: no owner"},
		{&APIError{Reason: cxv1.ReasonIssueNotFound, StatusCode: 404, Message: "gone"}, "GitHub 404 IssueNotFound: gone"},
		{&notSentError{errors.New("budget store down")}, "budget store down"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestRetryAfterIsNeverNegative(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	for _, tc := range []struct {
		resume time.Time
		want   time.Duration
	}{
		{now.Add(42 * time.Second), 42 * time.Second},
		{now.Add(time.Nanosecond), time.Nanosecond},
		{now, 0},
		{now.Add(-time.Hour), 0},
		{time.Time{}, 0},
	} {
		if got := (&RateLimitError{ResumeAt: tc.resume}).RetryAfter(now); got != tc.want {
			t.Errorf("RetryAfter with ResumeAt %v = %v, want %v", tc.resume, got, tc.want)
		}
	}
}

// TestErrorAnswersOverHTTP: what GitHub (or a proxy in front of it) really
// answers, through the whole client: odd bodies still give the reason of
// the status, and no answer's text reaches the error.
func TestErrorAnswersOverHTTP(t *testing.T) {
	ctx := context.Background()
	list := func(c *Client) error { _, err := c.Issues(ctx); return err }
	comment := func(c *Client) error { return c.Comment(ctx, 7, "hello") }
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		op          func(*Client) error
		reason      string
	}{
		{"401 HTML from a proxy", 401, "text/html", "<html><body>401 " + errTestToken + "</body></html>", list, cxv1.ReasonBadCredentials},
		{"403 locked issue", 403, "application/json", `{"message":"Unable to create comment because issue is locked."}`, comment, cxv1.ReasonForbidden},
		{"404 malformed JSON", 404, "application/json", `{"message":`, comment, cxv1.ReasonIssueNotFound},
		{"409 conflict", 409, "application/json", `{"message":"Git Repository is empty."}`, list, cxv1.ReasonUnexpectedStatus},
		{"410 empty body", 410, "application/json", ``, list, cxv1.ReasonIssuesDisabled},
		{"418 teapot", 418, "text/plain", "short and stout", comment, cxv1.ReasonUnexpectedStatus},
		{"422 hostile details", 422, "application/json", `{"message":"Validation Failed","errors":[{"resource":"<script>","field":"body","code":"too long by far"}]}`, comment, cxv1.ReasonValidationFailed},
		{"500 malformed JSON", 500, "application/json", `not json at all`, list, cxv1.ReasonServerError},
		{"502 HTML", 502, "text/html", "<html>Bad Gateway from 10.1.2.3</html>", comment, cxv1.ReasonServerError},
		{"504 oversized", 504, "text/plain", strings.Repeat("x", 2<<20), list, cxv1.ReasonServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, calls := statusClient(t, errTestToken, nil, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			err := tc.op(c)
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status || Reason(err) != tc.reason {
				t.Fatalf("err = %v (Reason %q), want %s %d", err, Reason(err), tc.reason, tc.status)
			}
			for _, leak := range []string{errTestToken, "<", "10.1.2.3", "short and stout", "xxxx", "too long"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q carries %q from the answer", err, leak)
				}
			}
			if *calls != 1 {
				t.Errorf("%d requests, want 1", *calls)
			}
		})
	}
}

// TestFailuresWithoutAnAnswer: the connection fails, the client's time-out
// passes, or the caller gives up.
func TestFailuresWithoutAnAnswer(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	truncate := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, `[{"number":1`)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request)
		ctx    func() (context.Context, context.CancelFunc)
		mod    func(*Config)
		reason string
	}{
		{"connection closed", hangUp, nil, nil, cxv1.ReasonNetworkError},
		{"answer cut short", truncate, nil, nil, cxv1.ReasonNetworkError},
		{"client time-out", hang, nil, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} }, cxv1.ReasonTimeout},
		{"caller's deadline", hang, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, nil, cxv1.ReasonTimeout},
		{"caller canceled", hang, func() (context.Context, context.CancelFunc) { return canceled, func() {} }, nil, cxv1.ReasonCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*Config)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			c, _ := statusClient(t, errTestToken, nil, tc.handle, mods...)
			ctx, stop := context.Background(), func() {}
			if tc.ctx != nil {
				ctx, stop = tc.ctx()
			}
			defer stop()
			_, err := c.Issues(ctx)
			if got := Reason(err); got != tc.reason {
				t.Errorf("Reason = %q (%v), want %q", got, err, tc.reason)
			}
			if err != nil && strings.Contains(err.Error(), errTestToken) {
				t.Errorf("error carries the token: %v", err)
			}
			if NotCreated(err) {
				t.Errorf("NotCreated(%v) = true: a failure without an answer proves nothing", err)
			}
		})
	}
}
