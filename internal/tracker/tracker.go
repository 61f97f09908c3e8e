// Package tracker opens and tracks the GitHub issues of cxloop's improvement work.
//
// Every issue cxloop opens carries the cxloop label and a hidden KeyMarker in
// its body. Before creating, the tracker looks the key up among all labelled
// issues (never through the Search API, which lags behind writes) and adopts
// what it finds, so each piece of work is opened exactly once without local
// state, across restarts and lost responses.
//
// Every GET is conditional (ETag/If-None-Match); an unchanged sync costs one
// request answered 304, which GitHub does not count against the rate limit.
// Rate limits (primary and secondary, answered 403 or 429) are turned into
// *RateLimitError; while a limit is in force no request is sent at all.
package tracker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/cxloop/cxloop/internal/redact"
)

// DefaultLabel is the label every issue cxloop opens carries (Config.Label
// when empty). Only people who may triage a repository can set labels.
const DefaultLabel = "cxloop"

const (
	defaultAPIURL          = "https://api.github.com/"
	defaultWritesPerMinute = 60
	defaultWritesPerHour   = 500
	defaultPageSize        = 100
	defaultTimeout         = 30 * time.Second

	// recentTTL: issues created by this Client are reported even if a listing
	// does not show them yet, for this long.
	recentTTL = 10 * time.Minute
)

// Config configures a Client.
type Config struct {
	Owner, Repo string
	// APIURL is the REST API root: "" means https://api.github.com/; for GitHub
	// Enterprise Server give the API root, e.g. https://ghe.example.com/api/v3/.
	APIURL string
	// Label is the label every cxloop issue carries; default "cxloop".
	Label       string
	Credentials Credentials
	// HTTPClient optionally provides the base transport (and timeout).
	HTTPClient *http.Client
	// WritesPerMinute and WritesPerHour are the budget for writes
	// (creations, edits, comments), kept within GitHub's documented
	// secondary limits for content creation (80 a minute, 500 an hour);
	// defaults 60 and 500. GitHub Enterprise Server's limits are set by its
	// admin; the local server has none.
	WritesPerMinute int
	WritesPerHour   int
	// PageSize is the per_page of listings; default (and GitHub's maximum) 100.
	PageSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// KeyPrefix, when set, limits Issues to the keys that start with it
	// (and to shortened keys, "h/…"): a journey's issues in a repository
	// that many journeys share.
	KeyPrefix string
}

// IssueRequest describes the issue for one piece of work.
type IssueRequest struct {
	Key       string // identifies the piece of work; see ValidKey
	Title     string
	Body      string // Markdown; run text taken from custom resources through markdown.Text
	Labels    []string
	Assignees []string
	// Attempted says that an earlier attempt to open this issue may have
	// reached GitHub (the caller recorded one): GitHub is asked what
	// changed before a create, rather than trusting the shared view, which
	// may be seconds old. Without an earlier attempt, no one can have
	// opened it but this process, which would have seen it. The caller
	// keeps its attempts and waits out their grace before asking again
	// (internal/exactlyonce); the Client keeps none.
	Attempted bool
}

// Issue is a GitHub issue opened by cxloop.
type Issue struct {
	Number      int
	URL         string // html_url
	Key         string
	Title       string
	Body        string // without the key marker
	State       string // "open" or "closed"
	StateReason string // "", "completed", "not_planned", "reopened"
	Labels      []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    *time.Time
}

// Tracker is what controllers use; *Client implements it.
type Tracker interface {
	// EnsureIssue returns the issue for req.Key, creating it if no labelled
	// issue (any state) carries the key. created reports a creation.
	EnsureIssue(ctx context.Context, req IssueRequest) (issue Issue, created bool, err error)
	// Issues returns every labelled issue carrying a key, in all states, by key.
	Issues(ctx context.Context) (map[string]Issue, error)
	// UpdateIssue sets title (kept when "") and body (the key marker is kept).
	// Nothing is sent when nothing changed.
	UpdateIssue(ctx context.Context, number int, title, body string) error
	// CloseIssue closes the issue with reason "completed" or "not_planned",
	// commenting first when comment is not empty. Closing an issue already
	// closed for the same reason sends nothing.
	CloseIssue(ctx context.Context, number int, reason, comment string) error
	// ReopenIssue reopens a closed issue, commenting first when comment is
	// not empty. Reopening an open issue sends nothing.
	ReopenIssue(ctx context.Context, number int, comment string) error
	// Comment adds a comment.
	Comment(ctx context.Context, number int, text string) error
	// CommentOnce adds a comment identified by key, unless the issue has
	// it already: posted before a crash that lost its answer or its record.
	CommentOnce(ctx context.Context, number int, key, text string) error
	// Repository is the repository as GitHub knows it now: its ID, which
	// survives renames and transfers, and its current name. It is asked
	// of GitHub once, again after any answer came through a redirect (the
	// sign of a rename), and otherwise at most hourly.
	Repository(ctx context.Context) (Repository, error)
	// WriteDelay is how long until waiter (a phase's or journey's key) may
	// send a write (0: now): a GitHub rate limit in force or cxloop's write
	// budget spent. Callers that record an attempt before writing ask
	// first, so that no attempt is recorded for a request that cannot go
	// out. A waiter keeps its place in line when it asks again.
	WriteDelay(waiter string) time.Duration
}

var _ Tracker = (*Client)(nil)

// Client talks to one repository. It is safe for concurrent use.
type Client struct {
	cfg     Config
	gh      *github.Client
	base    *url.URL
	label   string
	perPage int
	now     func() time.Time
	limits  *limitState

	keyLocks keyedMutex
	// index is the repository's issues, shared with every Client of the
	// repository (same API host and credentials identity).
	index     *issueIndex
	closeOnce sync.Once

	mu        sync.Mutex
	recent    map[string]recentIssue
	commented map[string]bool
	// repository is what GitHub said of the repository at repositoryAt;
	// redirected is set when an answer came through a redirect.
	repository   *Repository
	repositoryAt time.Time
	redirected   bool

	// apps asks GitHub about the App itself (JWT-authenticated); nil for a token.
	apps *github.Client
	// self is the login cxloop acts as, once known: a token's user, or an
	// App's bot "<slug>[bot]".
	self string
}

// Repository identifies a GitHub repository.
type Repository struct {
	// ID is GitHub's repository ID.
	ID int64
	// FullName is owner/name as GitHub answers it today.
	FullName string
}

// repositoryRecheck is how often the repository's identity is asked again
// when nothing suggested a rename; the request is conditional (free when
// unchanged).
const repositoryRecheck = time.Hour

type cachedIssue struct {
	Issue
	raw string // body as on GitHub, marker included
}

type recentIssue struct {
	issue cachedIssue
	at    time.Time
}

// New returns a Client for cfg.Owner/cfg.Repo.
func New(cfg Config) (*Client, error) {
	if cfg.Owner == "" || cfg.Repo == "" {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: "owner and repo are required"}
	}
	if cfg.Label == "" {
		cfg.Label = DefaultLabel
	}
	if err := validateLabel(cfg.Label); err != nil {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: err.Error()}
	}
	if cfg.WritesPerMinute <= 0 {
		cfg.WritesPerMinute = defaultWritesPerMinute
	}
	if cfg.WritesPerHour <= 0 {
		cfg.WritesPerHour = defaultWritesPerHour
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 100 {
		cfg.PageSize = defaultPageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Credentials.validate(); err != nil {
		return nil, err
	}
	if cfg.APIURL == "" {
		cfg.APIURL = defaultAPIURL
	}
	base, err := url.Parse(cfg.APIURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("APIURL %q is not an http(s) URL", redact.URL(cfg.APIURL))}
	}
	if base.User != nil {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("APIURL %s carries user info; credentials belong in Config.Credentials", redact.URL(cfg.APIURL))}
	}
	if base.Scheme == "http" && !IsLoopback(base.Hostname()) {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("APIURL %s uses http: credentials are sent over https only, except to a loopback host", cfg.APIURL)}
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	registerMetrics()

	var rt http.RoundTripper = http.DefaultTransport
	timeout := defaultTimeout
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			rt = cfg.HTTPClient.Transport
		}
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	rt = &metricsTransport{next: rt}
	var apps *github.Client
	if cfg.Credentials.Token != "" {
		rt = &tokenTransport{token: cfg.Credentials.Token, next: rt}
	} else {
		atr, err := ghinstallation.NewAppsTransport(rt, cfg.Credentials.AppID, cfg.Credentials.PrivateKey)
		if err != nil {
			return nil, &CredentialsError{Key: SecretKeyPrivateKey, Reason: "is not a PEM-encoded RSA private key"}
		}
		apiRoot := strings.TrimRight(base.String(), "/")
		atr.BaseURL = apiRoot
		itr := ghinstallation.NewFromAppsTransport(atr, cfg.Credentials.InstallationID)
		itr.BaseURL = apiRoot
		rt = itr
		apps = github.NewClient(&http.Client{Transport: atr, Timeout: timeout, CheckRedirect: sameOrigin(base)})
		apps.BaseURL = base
		apps.UserAgent = "cxloop"
	}
	identity := identityOf(cfg.Credentials)
	limits := sharedLimitState(base.Scheme+"://"+base.Host+base.Path+" "+identity, cfg.WritesPerMinute, cfg.WritesPerHour)
	rt = &limitTransport{next: rt, state: limits, now: cfg.Now, host: base.Host, scheme: base.Scheme}
	cache := newETagCache(rt, identity)

	gh := github.NewClient(&http.Client{Transport: cache, Timeout: timeout, CheckRedirect: sameOrigin(base)})
	gh.BaseURL = base
	gh.UploadURL = base
	gh.UserAgent = "cxloop"

	return &Client{
		index:     acquireIndex(base.Scheme+"://"+base.Host+base.Path+" "+identity+" "+strings.ToLower(cfg.Owner+"/"+cfg.Repo), cfg.Owner+"/"+cfg.Repo),
		cfg:       cfg,
		gh:        gh,
		base:      base,
		label:     cfg.Label,
		perPage:   cfg.PageSize,
		now:       cfg.Now,
		limits:    limits,
		recent:    map[string]recentIssue{},
		commented: map[string]bool{},
		apps:      apps,
	}, nil
}

func (c *Client) repoPath() string {
	return "repos/" + url.PathEscape(c.cfg.Owner) + "/" + url.PathEscape(c.cfg.Repo)
}

func toIssue(g *github.Issue) cachedIssue {
	raw := g.GetBody()
	is := Issue{
		Number:      g.GetNumber(),
		URL:         g.GetHTMLURL(),
		Key:         KeyFromBody(raw),
		Title:       g.GetTitle(),
		Body:        stripMarkers(raw),
		State:       g.GetState(),
		StateReason: g.GetStateReason(),
		CreatedAt:   g.GetCreatedAt().Time,
		UpdatedAt:   g.GetUpdatedAt().Time,
	}
	for _, l := range g.Labels {
		is.Labels = append(is.Labels, l.GetName())
	}
	if g.ClosedAt != nil {
		t := g.ClosedAt.Time
		is.ClosedAt = &t
	}
	return cachedIssue{Issue: is, raw: raw}
}

// nextLink returns the rel="next" URL of a Link header, or "".
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		segs := strings.Split(part, ";")
		if len(segs) < 2 {
			continue
		}
		u := strings.TrimSpace(segs[0])
		if !strings.HasPrefix(u, "<") || !strings.HasSuffix(u, ">") {
			continue
		}
		for _, s := range segs[1:] {
			s = strings.TrimSpace(s)
			if s == `rel="next"` || s == "rel=next" {
				return u[1 : len(u)-1]
			}
		}
	}
	return ""
}

// noteRedirect remembers that an answer came through a redirect: GitHub
// redirects the old name of a renamed or transferred repository to its ID.
func (c *Client) noteRedirect(req *http.Request, resp *github.Response) {
	if resp == nil || resp.Response == nil || resp.Request == nil || resp.Request.URL.Path == req.URL.Path {
		return
	}
	c.mu.Lock()
	c.redirected = true
	c.mu.Unlock()
}

// Repository returns the repository's ID and current name.
func (c *Client) Repository(ctx context.Context) (Repository, error) {
	now := c.now()
	c.mu.Lock()
	known, fresh := c.repository, !c.redirected && now.Sub(c.repositoryAt) < repositoryRecheck
	c.mu.Unlock()
	if known != nil && fresh {
		return *known, nil
	}
	g, _, err := c.gh.Repositories.Get(ctx, c.cfg.Owner, c.cfg.Repo)
	if err != nil {
		return Repository{}, c.mapError(err, opRepo)
	}
	r := Repository{ID: g.GetID(), FullName: g.GetFullName()}
	if r.FullName == "" {
		r.FullName = g.GetOwner().GetLogin() + "/" + g.GetName()
	}
	c.mu.Lock()
	c.repository, c.repositoryAt, c.redirected = &r, now, false
	c.mu.Unlock()
	c.index.mu.Lock()
	c.index.repoID = r.ID
	c.index.mu.Unlock()
	return r, nil
}

// Issues returns every labelled issue carrying a key marker, all states, by key.
// When two issues carry the same key, the one with the lower number wins.
func (c *Client) Issues(ctx context.Context) (map[string]Issue, error) {
	return c.clonedIssues(ctx, false)
}

// IssuesNow is Issues after asking GitHub what changed, however fresh the
// shared view: for a caller about to act for good on an issue's absence
// (a phase completing while an earlier attempt's issue was not seen).
func (c *Client) IssuesNow(ctx context.Context) (map[string]Issue, error) {
	return c.clonedIssues(ctx, true)
}

func (c *Client) clonedIssues(ctx context.Context, force bool) (map[string]Issue, error) {
	m, err := c.issues(ctx, force)
	if err != nil {
		return nil, err
	}
	return c.clones(m), nil
}

// KnownIssues is Issues answered from the repository's shared index as it
// stands, asking GitHub only when the index must be refreshed: it was
// never loaded, or a webhook delivery marked the repository changed (or
// its open issues are due to be listed whole, every OpenRecheck). A phase
// that only waits for the write budget reads it, so that waiting costs no
// request while nothing changed; without webhooks it learns of changes at
// its turn to write, when EnsureIssue refreshes the index. A GitHub rate
// limit in force is its error, as a request's would be: a phase waiting
// for it says so, not that it waits for cxloop's budget.
func (c *Client) KnownIssues(ctx context.Context) (map[string]Issue, error) {
	if rl := c.limits.check(c.now()); rl != nil {
		return nil, rl
	}
	if err := c.index.refreshIfChanged(ctx, c); err != nil {
		return nil, err
	}
	return c.clones(c.indexed()), nil
}

func (c *Client) issues(ctx context.Context, force bool) (map[string]cachedIssue, error) {
	if err := c.index.refresh(ctx, c, force); err != nil {
		return nil, err
	}
	return c.indexed(), nil
}

// indexed is the client's issues in the index, with those it created
// lately that a listing has not shown yet.
func (c *Client) indexed() map[string]cachedIssue {
	m := c.index.byKey(c.cfg.KeyPrefix)
	now := c.now()
	c.mu.Lock()
	for k, r := range c.recent {
		if _, ok := m[k]; ok || now.Sub(r.at) > recentTTL {
			delete(c.recent, k)
			continue
		}
		m[k] = r.issue
	}
	c.mu.Unlock()
	return m
}

func (c *Client) clones(m map[string]cachedIssue) map[string]Issue {
	out := make(map[string]Issue, len(m))
	for k, v := range m {
		out[k] = v.clone()
	}
	return out
}

// WriteDelay implements Tracker.
func (c *Client) WriteDelay(waiter string) time.Duration {
	// The budget saved by an earlier process counts before the first
	// write is planned; until it can be read, nothing is.
	ctx, cancel := context.WithTimeout(context.Background(), budgetLoadTimeout)
	defer cancel()
	if err := c.limits.ensureLoaded(ctx, c.now()); err != nil {
		return budgetLoadRetry
	}
	return c.limits.writeDelay(c.now(), waiter)
}

// WaitsForBudget reports whether waiter (as given to WriteDelay) still
// waits for its turn to write, without taking or giving up its place: a
// phase asks it before it decides to read its issues from memory.
func (c *Client) WaitsForBudget(waiter string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), budgetLoadTimeout)
	defer cancel()
	if err := c.limits.ensureLoaded(ctx, c.now()); err != nil {
		return true
	}
	return c.limits.waitsInLine(c.now(), waiter)
}

// EnsureIssue implements Tracker.
func (c *Client) EnsureIssue(ctx context.Context, req IssueRequest) (Issue, bool, error) {
	if !ValidKey(req.Key) {
		return Issue{}, false, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("key %q must be 1 to 200 characters of A-Z a-z 0-9 . _ : / -", req.Key)}
	}
	if strings.TrimSpace(req.Title) == "" {
		return Issue{}, false, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: "title is empty"}
	}
	unlock := c.keyLocks.lock(req.Key)
	defer unlock()

	existing, err := c.issues(ctx, false)
	if err != nil {
		return Issue{}, false, &notSentError{err}
	}
	if _, ok := existing[req.Key]; !ok && req.Attempted {
		// Not in the shared view, which may be seconds old: ask GitHub
		// what changed since before deciding to create (an earlier
		// process may have created it; a lost answer leaves no trace here).
		if existing, err = c.issues(ctx, true); err != nil {
			return Issue{}, false, &notSentError{err}
		}
	}
	if is, ok := existing[req.Key]; ok {
		return is.clone(), false, nil
	}

	labels := []string{c.label}
	seen := map[string]bool{strings.ToLower(c.label): true}
	for _, l := range req.Labels {
		if l == "" || seen[strings.ToLower(l)] {
			continue
		}
		seen[strings.ToLower(l)] = true
		labels = append(labels, l)
	}
	ir := &github.IssueRequest{
		Title:  github.String(req.Title),
		Body:   github.String(composeBody(req.Body, req.Key)),
		Labels: &labels,
	}
	if len(req.Assignees) > 0 {
		as := append([]string(nil), req.Assignees...)
		ir.Assignees = &as
	}
	g, _, err := c.gh.Issues.Create(ctx, c.cfg.Owner, c.cfg.Repo, ir)
	if err != nil {
		// The issue may exist on GitHub unless NotCreated(err): the
		// caller's attempt holds it (internal/exactlyonce).
		return Issue{}, false, c.mapError(err, opRepo)
	}
	is := toIssue(g)
	c.index.put(is, c.now())
	c.mu.Lock()
	c.recent[req.Key] = recentIssue{issue: is, at: c.now()}
	c.mu.Unlock()

	if !hasLabel(is.Labels, c.label) {
		// GitHub silently drops labels when the token may not set them; without
		// the label the issue would not be found again.
		got, _, lerr := c.gh.Issues.AddLabelsToIssue(ctx, c.cfg.Owner, c.cfg.Repo, is.Number, []string{c.label})
		if lerr != nil || !hasLabelGH(got, c.label) {
			return is.Issue, true, &APIError{Reason: cxv1.ReasonLabelNotApplied, StatusCode: 0,
				Message: fmt.Sprintf("issue #%d was created but the label %q could not be applied; the credentials need write (triage) access to issues", is.Number, c.label)}
		}
		is.Labels = nil
		for _, l := range got {
			is.Labels = append(is.Labels, l.GetName())
		}
		c.index.put(is, c.now())
		c.mu.Lock()
		c.recent[req.Key] = recentIssue{issue: is, at: c.now()}
		c.mu.Unlock()
	}
	return is.clone(), true, nil
}

// ConfirmIssue asks GitHub for issue number, to tell an issue that a
// listing did not show from one that is gone: a view of the repository may
// be older than a caller's record of the issue (a listing answered before
// another replica opened it, read after this process was paused). found is
// false only when GitHub says so: the issue is deleted or not found, no
// longer carries cxloop's label, or lives in another repository now
// (transferred). What it finds goes into the repository's index.
func (c *Client) ConfirmIssue(ctx context.Context, number int) (Issue, bool, error) {
	is, err := c.fetchIssue(ctx, number)
	switch {
	case isGone(err):
		return Issue{}, false, nil
	case err != nil:
		return Issue{}, false, err
	case is.Number != number || !hasLabel(is.Labels, c.label) || !c.inRepository(is):
		return Issue{}, false, nil
	}
	c.index.put(is, c.now())
	return is.clone(), true, nil
}

// clone returns the Issue with its own Labels and ClosedAt, so that callers
// cannot alter the cache.
func (is cachedIssue) clone() Issue {
	out := is.Issue
	out.Labels = append([]string(nil), is.Labels...)
	if is.ClosedAt != nil {
		t := *is.ClosedAt
		out.ClosedAt = &t
	}
	return out
}

func hasLabel(ls []string, l string) bool {
	for _, x := range ls {
		if strings.EqualFold(x, l) {
			return true
		}
	}
	return false
}

func hasLabelGH(ls []*github.Label, l string) bool {
	for _, x := range ls {
		if strings.EqualFold(x.GetName(), l) {
			return true
		}
	}
	return false
}

// fetchIssue asks GitHub for one issue, conditionally, without following
// a transfer's redirect to another repository.
func (c *Client) fetchIssue(ctx context.Context, number int) (cachedIssue, error) {
	req, err := c.gh.NewRequest(http.MethodGet, fmt.Sprintf("%s/issues/%d", c.repoPath(), number), nil)
	if err != nil {
		return cachedIssue{}, err
	}
	var g github.Issue
	if _, err := c.gh.Do(ctx, req, &g); err != nil {
		return cachedIssue{}, c.mapError(err, opIssue)
	}
	return toIssue(&g), nil
}

// current returns the issue as the repository's index holds it, or
// fetches it (conditionally) when the index does not hold it, or holds it
// without the body that needBody asks for (the index keeps the bodies of
// open issues only). One view for every client of the repository: a
// client's own copy would go stale when another journey, or a person,
// changed the issue since.
func (c *Client) current(ctx context.Context, number int, needBody bool) (cachedIssue, error) {
	if is, ok := c.index.entry(number); ok && (!needBody || is.raw != "") {
		return is, nil
	}
	is, err := c.fetchIssue(ctx, number)
	if err != nil {
		return cachedIssue{}, err
	}
	c.index.put(is, c.now())
	return is, nil
}

func normalizeBody(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), " \t\n")
}

// UpdateIssue implements Tracker. The comparison uses the issue as last listed
// (Issues/EnsureIssue) or fetched.
func (c *Client) UpdateIssue(ctx context.Context, number int, title, body string) error {
	cur, err := c.current(ctx, number, true)
	if err != nil {
		return err
	}
	if title == "" {
		title = cur.Title
	}
	newBody := body
	if cur.Key != "" {
		newBody = composeBody(body, cur.Key)
	}
	if title == cur.Title && normalizeBody(newBody) == normalizeBody(cur.raw) {
		return nil
	}
	ir := &github.IssueRequest{}
	if title != cur.Title {
		ir.Title = github.String(title)
	}
	if normalizeBody(newBody) != normalizeBody(cur.raw) {
		ir.Body = github.String(newBody)
	}
	g, _, err := c.gh.Issues.Edit(ctx, c.cfg.Owner, c.cfg.Repo, number, ir)
	if err != nil {
		return c.mapError(err, opIssue)
	}
	c.remember(toIssue(g))
	return nil
}

func (c *Client) remember(is cachedIssue) {
	c.index.put(is, c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.recent[is.Key]; ok && is.Key != "" && r.issue.Number == is.Number {
		r.issue = is
		c.recent[is.Key] = r
	}
}

// CloseIssue implements Tracker.
func (c *Client) CloseIssue(ctx context.Context, number int, reason, comment string) error {
	if reason != "completed" && reason != "not_planned" {
		return &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("close reason %q must be \"completed\" or \"not_planned\"", reason)}
	}
	cur, err := c.current(ctx, number, false)
	if err != nil {
		return err
	}
	if cur.State == "closed" && cur.StateReason == reason {
		return nil
	}
	commentKey := ""
	if comment != "" {
		sum := sha256.Sum256([]byte(comment))
		commentKey = strconv.Itoa(number) + ":" + hex.EncodeToString(sum[:8])
		c.mu.Lock()
		done := c.commented[commentKey]
		c.mu.Unlock()
		if !done {
			if err := c.Comment(ctx, number, comment); err != nil {
				return err
			}
			c.mu.Lock()
			c.commented[commentKey] = true
			c.mu.Unlock()
		}
	}
	g, _, err := c.gh.Issues.Edit(ctx, c.cfg.Owner, c.cfg.Repo, number, &github.IssueRequest{
		State:       github.String("closed"),
		StateReason: github.String(reason),
	})
	if err != nil {
		return c.mapError(err, opIssue)
	}
	c.remember(toIssue(g))
	if commentKey != "" {
		c.mu.Lock()
		delete(c.commented, commentKey)
		c.mu.Unlock()
	}
	return nil
}

// Comment implements Tracker.
// ReopenIssue reopens a closed issue: work cxloop had closed (obsolete, or a
// gap it saw fixed) that the journey map asks for again.
func (c *Client) ReopenIssue(ctx context.Context, number int, comment string) error {
	cur, err := c.current(ctx, number, false)
	if err != nil {
		return err
	}
	if cur.State == "open" {
		return nil
	}
	if comment != "" {
		if err := c.Comment(ctx, number, comment); err != nil {
			return err
		}
	}
	g, _, err := c.gh.Issues.Edit(ctx, c.cfg.Owner, c.cfg.Repo, number, &github.IssueRequest{State: github.String("open")})
	if err != nil {
		return c.mapError(err, opIssue)
	}
	c.remember(toIssue(g))
	return nil
}

func (c *Client) Comment(ctx context.Context, number int, text string) error {
	if strings.TrimSpace(text) == "" {
		return &APIError{Reason: cxv1.ReasonInvalidRequest, Message: "comment is empty"}
	}
	_, _, err := c.gh.Issues.CreateComment(ctx, c.cfg.Owner, c.cfg.Repo, number, &github.IssueComment{Body: github.String(text)})
	return c.mapError(err, opIssue)
}

// CommentMarker is the hidden marker of cxloop's comment identified by key.
func CommentMarker(key string) string { return "<!-- cxloop:comment=" + key + " -->" }

// CommentOnce implements Tracker: it reads the issue's comments (a request
// only when about to comment) and comments with a marker for key unless one
// carries it already. Only a marker in a comment written by the identity
// cxloop authenticates as counts: the marker is predictable, and anyone
// who may comment on the issue could otherwise post it to keep the
// comment from being made.
func (c *Client) CommentOnce(ctx context.Context, number int, key, text string) error {
	if !ValidKey(key) {
		return &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("comment key %q is not valid", key)}
	}
	self, err := c.identity(ctx)
	if err != nil {
		return err
	}
	marker := CommentMarker(key)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, c.cfg.Owner, c.cfg.Repo, number, opts)
		if err != nil {
			return c.mapError(err, opIssue)
		}
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), marker) && isAuthor(cm.GetUser(), self) {
				return nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return c.Comment(ctx, number, strings.TrimRight(text, " \t\r\n")+"\n\n"+marker)
}

// anyBot stands for the identity of an installation token given as a
// token: an App's bot whose slug cxloop cannot learn.
const anyBot = "[bot]"

// isAuthor reports whether u is self: the same login, or, for anyBot, an
// App's bot (which only an App installed on the repository can act as).
func isAuthor(u *github.User, self string) bool {
	if self == anyBot {
		return u.GetType() == "Bot" && strings.HasSuffix(u.GetLogin(), "[bot]")
	}
	return strings.EqualFold(u.GetLogin(), self)
}

// identity returns the login cxloop acts as on GitHub: the user of a token
// (GET /user), or an App's bot, "<slug>[bot]" (GET /app with the App's
// JWT). It is asked once per Client.
func (c *Client) identity(ctx context.Context) (string, error) {
	c.mu.Lock()
	self := c.self
	c.mu.Unlock()
	if self != "" {
		return self, nil
	}
	if c.apps != nil {
		app, _, err := c.apps.Apps.Get(ctx, "")
		if err != nil {
			return "", c.mapError(err, opRepo)
		}
		if app.GetSlug() == "" {
			return "", &APIError{Reason: cxv1.ReasonUnexpectedStatus, Message: "GitHub did not say the App's slug"}
		}
		self = app.GetSlug() + "[bot]"
	} else {
		u, _, err := c.gh.Users.Get(ctx, "")
		var ae *APIError
		if err = c.mapError(err, opRepo); errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden {
			// An installation token in the key "token" has no user (GitHub
			// answers 403 "Resource not accessible by integration") and
			// cannot ask for its App's slug: it writes as some App's bot.
			self = anyBot
		} else if err != nil {
			return "", err
		}
		if self == anyBot {
			c.mu.Lock()
			c.self = self
			c.mu.Unlock()
			return self, nil
		}
		if u.GetLogin() == "" {
			return "", &APIError{Reason: cxv1.ReasonUnexpectedStatus, Message: "GitHub did not say which user the token acts as"}
		}
		self = u.GetLogin()
	}
	c.mu.Lock()
	c.self = self
	c.mu.Unlock()
	return self, nil
}

// keyedMutex serialises work per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
