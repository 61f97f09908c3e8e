package tracker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/google/go-github/v60/github"
)

// The issue index: one view per repository (and API host and credentials
// identity) of the issues carrying cxloop's label, shared by every Client,
// that is by every journey, tracking that repository.
//
// Why shared: journeys of one organisation live in one or a few
// repositories, which after a year hold thousands of closed cxloop issues.
// A listing per journey costs memory as journeys × issues and requests as
// journeys × pages. The index holds each issue once, and for closed issues
// only what the controllers read of them (key, number, state, when), never
// their bodies.
//
// How it stays current: it is listed whole once (every page, all states);
// after that each refresh asks only for the issues updated since the newest
// it holds (`since`, sorted by update), conditionally, so that an idle
// repository costs one request answered 304 per refresh, which GitHub does
// not count against the rate limit. Refreshes are shared: callers within
// indexFreshFor of the last one reuse it, unless they force one (a create
// whose outcome is unknown) or a webhook delivery marked the repository
// changed (InvalidateRepository). Deleted and transferred issues do not show
// up as updated; the open issues are listed again every OpenRecheck (open
// issues are few), and an issue the index holds open that neither listing
// shows is gone from the repository.
const (
	// indexFreshFor is how long a refresh serves every caller at least
	// (callers may accept longer: WithMaxAge).
	indexFreshFor = 10 * time.Second
	// webhookTrust: a repository that had a webhook delivery within it is
	// taken to have working webhooks; its view then serves polling callers
	// for six of their sync intervals, up to webhookMaxAge (GitHub does not
	// promise every delivery: a lost one is seen within that).
	webhookTrust  = 10 * time.Minute
	webhookMaxAge = 2 * time.Minute
	// OpenRecheck is how often a repository's open issues are listed
	// whole, a net for deliveries GitHub lost and issues transferred away.
	// The first listing after a change answers 200; while nothing
	// changes, 304.
	OpenRecheck = 10 * time.Minute
	// sinceOverlap makes each incremental listing overlap the previous one:
	// updated_at has whole seconds.
	sinceOverlap = time.Second
	// maxIndexPages bounds one listing (100 per page): 200,000 issues.
	maxIndexPages = 2000
	// maxIndexBytes bounds what one index holds.
	maxIndexBytes = 64 << 20
)

// indexEntry is what the index keeps of one issue. Open issues keep their
// body (cxloop edits them when the map changes) and labels; closed ones
// only their key, state and times.
type indexEntry struct {
	Number      int
	Key         string
	Title       string
	URL         string
	State       string
	StateReason string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    *time.Time
	// raw and labels: open issues only.
	raw    string
	labels []string
	// seenAt is when this process last heard of the issue.
	seenAt time.Time
}

func (e *indexEntry) size() int {
	n := 160 + len(e.Key) + len(e.Title) + len(e.URL) + len(e.raw)
	for _, l := range e.labels {
		n += 16 + len(l)
	}
	return n
}

func entryOf(is cachedIssue) *indexEntry {
	e := &indexEntry{Number: is.Number, Key: is.Key, Title: is.Title, URL: is.URL, State: is.State, StateReason: is.StateReason,
		CreatedAt: is.CreatedAt, UpdatedAt: is.UpdatedAt, ClosedAt: is.ClosedAt}
	if is.State != "closed" {
		e.raw, e.labels = is.raw, is.Labels
	}
	return e
}

func (e *indexEntry) issue() cachedIssue {
	is := Issue{Number: e.Number, URL: e.URL, Key: e.Key, Title: e.Title, State: e.State, StateReason: e.StateReason,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, ClosedAt: e.ClosedAt, Labels: e.labels}
	if e.raw != "" {
		is.Body = stripMarkers(e.raw)
	}
	return cachedIssue{Issue: is, raw: e.raw}
}

// issueIndex is the shared view of one repository's labelled issues.
type issueIndex struct {
	key   string // in the registry
	owner string // lower-case owner/repo, for InvalidateRepository
	refs  int    // Clients holding it; guarded by indexesMu

	// refreshing serialises refreshes, one at a time per repository; a
	// channel so that a caller waiting for it gives up with its context.
	refreshing chan struct{}

	mu         sync.RWMutex
	entries    map[int]*indexEntry
	bytes      int
	loaded     bool
	maxUpdated time.Time
	// since is the lower bound of the incremental listings. It stays put
	// while they stay short, so that their first page keeps its URL and
	// an idle repository answers 304 to every refresh; it moves up to
	// maxUpdated once a listing returns more than half a page.
	since     time.Time
	sinceURL  string // the last incremental listing's first page
	sinceETag string
	// refreshedAt is when the last refresh ended, by the machine's clock:
	// how fresh a view is depends on time passing, whatever clock the
	// callers' domain runs on. openAt is by the callers' clock.
	refreshedAt time.Time
	openAt      time.Time
	dirty       bool
	// deliveredAt is when a webhook delivery last told of a change in the
	// repository (by the machine's clock): while deliveries arrive, they
	// say what changed, and a view up to webhookMaxAge old serves polling.
	deliveredAt time.Time
	repoID      int64
	// started counts the refreshes begun, succeeded the number of the
	// last that succeeded: a caller that finds one begun after it asked
	// and succeeded shares its answer.
	started, succeeded uint64
	// finished counts the refreshes over: while started > finished one is
	// running, and may have cleared the mark of a change it began after.
	finished uint64
}

var (
	indexesMu sync.Mutex
	indexes   = map[string]*issueIndex{}
)

// acquireIndex returns the index of a repository, shared by key, counting
// the holder; releaseIndex frees it with its last holder.
func acquireIndex(key, ownerRepo string) *issueIndex {
	indexesMu.Lock()
	defer indexesMu.Unlock()
	x, ok := indexes[key]
	if !ok {
		x = &issueIndex{key: key, owner: strings.ToLower(ownerRepo), entries: map[int]*indexEntry{}, refreshing: make(chan struct{}, 1)}
		indexes[key] = x
	}
	x.refs++
	return x
}

func releaseIndex(x *issueIndex) {
	indexesMu.Lock()
	defer indexesMu.Unlock()
	x.refs--
	if x.refs <= 0 && indexes[x.key] == x {
		delete(indexes, x.key)
	}
}

// NoteDelivery records that a webhook delivery for the repository arrived
// which tells nothing the index lacks (an issue cxloop opened itself): the
// repository's webhooks work, so its view may serve polling callers for
// longer (see webhookTrust), without a refresh now.
func NoteDelivery(owner, repo string, id int64) {
	eachIndexOf(owner, repo, id, func(x *issueIndex) { x.deliveredAt = time.Now() })
}

// InvalidateRepository tells every index of the repository (by owner/name,
// or by GitHub's ID when known) that GitHub reported a change, so that the
// next caller refreshes it at once instead of within indexFreshFor.
func InvalidateRepository(owner, repo string, id int64) {
	eachIndexOf(owner, repo, id, func(x *issueIndex) {
		x.dirty = true
		x.deliveredAt = time.Now()
	})
}

// eachIndexOf calls note, under the index's lock, for every index of the
// repository named by owner/name or (when known) by GitHub's ID.
func eachIndexOf(owner, repo string, id int64, note func(*issueIndex)) {
	name := strings.ToLower(owner + "/" + repo)
	indexesMu.Lock()
	defer indexesMu.Unlock()
	for _, x := range indexes {
		x.mu.Lock()
		if x.owner == name || (id > 0 && x.repoID == id) {
			note(x)
		}
		x.mu.Unlock()
	}
}

// Invalidate makes the next caller of the client's repository index ask
// GitHub: a webhook delivery recorded on the journey says something changed.
func (c *Client) Invalidate() {
	c.index.mu.Lock()
	c.index.dirty = true
	c.index.deliveredAt = time.Now()
	c.index.mu.Unlock()
}

// IndexStats is what the index of a repository holds, for tests and metrics.
type IndexStats struct {
	Issues, Open, Bytes, Holders int
}

// Stats describes the client's index.
func (c *Client) IndexStats() IndexStats {
	x := c.index
	indexesMu.Lock()
	holders := x.refs
	indexesMu.Unlock()
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := IndexStats{Issues: len(x.entries), Bytes: x.bytes, Holders: holders}
	for _, e := range x.entries {
		if e.State != "closed" {
			st.Open++
		}
	}
	return st
}

// Close releases the client's share of the repository's issue index. The
// client must not be used afterwards.
func (c *Client) Close() {
	c.closeOnce.Do(func() { releaseIndex(c.index) })
}

// put stores an issue as GitHub answered it (a listing, a create, an edit)
// at now.
func (x *issueIndex) put(is cachedIssue, now time.Time) {
	if is.Number == 0 {
		return
	}
	e := entryOf(is)
	e.seenAt = now
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.entries[e.Number]; ok {
		if old.UpdatedAt.After(e.UpdatedAt) {
			return // an older answer than the one held
		}
		x.bytes -= old.size()
	}
	x.entries[e.Number] = e
	x.bytes += e.size()
}

// entry returns an issue the index holds.
func (x *issueIndex) entry(number int) (cachedIssue, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, ok := x.entries[number]
	if !ok {
		return cachedIssue{}, false
	}
	return e.issue(), true
}

// byKey returns the issues whose key starts with prefix (all keys when
// prefix is ""; shortened keys, "h/…", always), by key; when two issues
// carry one key, the lower number wins.
func (x *issueIndex) byKey(prefix string) map[string]cachedIssue {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := map[string]cachedIssue{}
	for _, e := range x.entries {
		if e.Key == "" || (prefix != "" && !strings.HasPrefix(e.Key, prefix) && !strings.HasPrefix(e.Key, "h/")) {
			continue
		}
		if ex, ok := m[e.Key]; ok && ex.Number < e.Number {
			continue
		}
		m[e.Key] = e.issue()
	}
	return m
}

// maxAgeKey carries the age of the index a caller accepts; see WithMaxAge.
type maxAgeKey struct{}

// WithMaxAge says how old a view of the repository's issues the caller
// accepts, when nothing reported a change: a phase polling every sync
// interval asks for half of it, so that a repository costs at most two
// refreshes per interval, however many phases and journeys read it. Less
// than indexFreshFor counts as indexFreshFor. Webhook deliveries
// (InvalidateRepository) and creates whose outcome is unknown refresh
// regardless.
func WithMaxAge(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxAgeKey{}, d)
}

func maxAgeOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(maxAgeKey{}).(time.Duration); ok && d > indexFreshFor {
		return d
	}
	return indexFreshFor
}

// trustedAgeOf is how old a view may be for the caller while deliveries
// arrive: twelve times what it asked for, that is six sync intervals of a
// phase (which asks for half of one), at most webhookMaxAge.
func trustedAgeOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(maxAgeKey{}).(time.Duration); ok && d > 0 {
		return min(webhookMaxAge, 12*d)
	}
	return webhookMaxAge
}

// refresh brings the index up to date; force asks GitHub even within
// indexFreshFor. Callers that asked while another refresh ran share it,
// when it succeeded.
func (x *issueIndex) refresh(ctx context.Context, c *Client, force bool) error {
	return x.refreshOlderThan(ctx, c, force, maxAgeOf(ctx))
}

// refreshIfChanged brings the index up to date only when it must: it was
// never loaded, a webhook delivery (or a failed refresh) marked the
// repository changed, or its open issues are due to be listed whole. Its
// age alone is no reason: a caller that only waits (for the write budget)
// asks GitHub nothing while nothing changed.
func (x *issueIndex) refreshIfChanged(ctx context.Context, c *Client) error {
	return x.refreshOlderThan(ctx, c, false, -1)
}

// refreshOlderThan is refresh for views up to maxAge old (negative: any age).
func (x *issueIndex) refreshOlderThan(ctx context.Context, c *Client, force bool, maxAge time.Duration) error {
	x.mu.RLock()
	running := x.started > x.finished
	if maxAge >= 0 && time.Since(x.deliveredAt) < webhookTrust {
		// Deliveries arrive for this repository: they mark what changed,
		// and polling is the safety net for one lost.
		maxAge = max(maxAge, trustedAgeOf(ctx))
	}
	young := maxAge < 0 || time.Since(x.refreshedAt) < maxAge
	fresh := x.loaded && !x.dirty && !running && !force && young && c.now().Sub(x.openAt) < OpenRecheck
	ticket := x.started
	x.mu.RUnlock()
	if fresh {
		return nil
	}
	select {
	case x.refreshing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-x.refreshing }()
	x.mu.Lock()
	// A refresh begun after this caller asked (and, refreshes being one at
	// a time, over by now) answers it too, if it succeeded.
	// (What GitHub said changed after the caller asked is the next
	// caller's concern: a delivery arriving every few milliseconds during
	// a ramp must not make every waiting caller refresh in turn.)
	done := x.loaded && x.succeeded > ticket
	loaded, openAt := x.loaded, x.openAt
	if !done {
		x.started++
		// This refresh covers every change reported so far; one reported
		// while it runs marks the index for the next.
		x.dirty = false
	}
	mine := x.started
	x.mu.Unlock()
	if done {
		return nil
	}
	now := c.now()
	var err error
	switch {
	case !loaded:
		// An issue updated while the pages were read moves to page 1, read
		// already: look for what changed since the listing began. A
		// listing of one page was read at once, and needs no second look.
		var pages int
		if pages, err = x.listWhole(ctx, c, now); err == nil && pages > 1 {
			_, err = x.listChanged(ctx, c, now)
		}
	case now.Sub(openAt) >= OpenRecheck:
		err = x.recheckOpen(ctx, c, now)
	default:
		_, err = x.listChanged(ctx, c, now)
	}
	x.mu.Lock()
	x.finished = mine
	if err == nil {
		x.succeeded = mine
	} else {
		x.dirty = true // the next caller asks again
	}
	x.mu.Unlock()
	return err
}

// listWhole lists every labelled issue, page by page, keeping only what the
// index holds of each; it reports how many pages it read.
func (x *issueIndex) listWhole(ctx context.Context, c *Client, now time.Time) (int, error) {
	entries := map[int]*indexEntry{}
	bytes := 0
	var newest time.Time
	pages := 0
	err := c.listPages(ctx, c.listQuery("all", "desc", time.Time{}), "", func(is cachedIssue) error {
		e := entryOf(is)
		e.seenAt = now
		if old, ok := entries[e.Number]; ok {
			bytes -= old.size()
		}
		entries[e.Number] = e
		bytes += e.size()
		if bytes > maxIndexBytes {
			return &APIError{Reason: cxv1.ReasonInternalError, Message: fmt.Sprintf("the repository's issues labelled %q take more than %d MiB: more than cxloop keeps in memory", c.label, maxIndexBytes>>20)}
		}
		if is.UpdatedAt.After(newest) {
			newest = is.UpdatedAt
		}
		return nil
	}, func(int, string) { pages++ })
	if err != nil {
		return pages, err
	}
	x.mu.Lock()
	// Answers of creates and edits that arrived while listing are newer.
	for n, e := range x.entries {
		if cur, ok := entries[n]; !ok || e.UpdatedAt.After(cur.UpdatedAt) {
			if ok {
				bytes -= cur.size()
			}
			entries[n] = e
			bytes += e.size()
		}
	}
	x.entries, x.bytes, x.maxUpdated = entries, bytes, newest
	x.loaded, x.refreshedAt, x.openAt = true, time.Now(), now
	x.since, x.sinceURL, x.sinceETag = sinceOf(newest), "", ""
	x.mu.Unlock()
	return pages, nil
}

// listChanged asks for the issues updated since the newest the index holds
// and stores them; it reports the numbers it saw.
func (x *issueIndex) listChanged(ctx context.Context, c *Client, now time.Time) (map[int]bool, error) {
	seen, moved, err := x.listChangedOnce(ctx, c, now)
	if err != nil || !moved {
		return seen, err
	}
	// since moved up: ask once more from there, so that the new first
	// page's ETag is known and the idle refreshes that follow are 304s
	// (the request is made now, in a busy stretch, not in the first idle
	// refresh).
	again, _, err := x.listChangedOnce(ctx, c, now)
	maps.Copy(seen, again)
	return seen, err
}

// listChangedOnce is one incremental listing; moved reports that since
// moved up after it.
func (x *issueIndex) listChangedOnce(ctx context.Context, c *Client, now time.Time) (_ map[int]bool, moved bool, _ error) {
	x.mu.RLock()
	since, prevURL, prevETag := x.since, x.sinceURL, x.sinceETag
	x.mu.RUnlock()
	first := c.listQuery("all", "asc", since)
	etag := ""
	if first == prevURL {
		etag = prevETag
	}
	seen := map[int]bool{}
	newest := time.Time{}
	var firstETag string
	err := c.listPages(ctx, first, etag, func(is cachedIssue) error {
		seen[is.Number] = true
		x.put(is, now)
		if is.UpdatedAt.After(newest) {
			newest = is.UpdatedAt
		}
		return nil
	}, func(page int, e string) {
		if page == 0 {
			firstETag = e
		}
	})
	if err != nil && !errors.Is(err, errNotModified) {
		return nil, false, err
	}
	x.mu.Lock()
	if err == nil {
		x.sinceURL, x.sinceETag = first, firstETag
		if newest.After(x.maxUpdated) {
			x.maxUpdated = newest
		}
		if len(seen) > c.perPage/2 && sinceOf(x.maxUpdated).After(x.since) {
			x.since, moved = sinceOf(x.maxUpdated), true
		}
	}
	x.refreshedAt = time.Now()
	over := x.bytes > maxIndexBytes
	x.mu.Unlock()
	if over {
		return nil, false, &APIError{Reason: cxv1.ReasonInternalError, Message: fmt.Sprintf("the repository's issues labelled %q take more than %d MiB: more than cxloop keeps in memory", c.label, maxIndexBytes>>20)}
	}
	return seen, moved, nil
}

// recheckOpen lists the open issues whole, then what changed since. An
// issue the index holds open that neither shows may be gone (deleted or
// transferred), or may only have moved between pages while they were read
// (an issue closed meanwhile shifts the later ones up a page): each is
// asked of GitHub by number, and leaves the index only when GitHub says
// it is gone.
func (x *issueIndex) recheckOpen(ctx context.Context, c *Client, now time.Time) error {
	open := map[int]bool{}
	if err := c.listPages(ctx, c.listQuery("open", "desc", time.Time{}), "", func(is cachedIssue) error {
		open[is.Number] = true
		x.put(is, now)
		return nil
	}); err != nil {
		return err
	}
	changed, err := x.listChanged(ctx, c, now)
	if err != nil {
		return err
	}
	x.mu.RLock()
	var missing []int
	for n, e := range x.entries {
		if e.State != "closed" && !open[n] && !changed[n] && e.seenAt.Before(now) {
			missing = append(missing, n)
		}
	}
	x.mu.RUnlock()
	for _, n := range missing {
		is, err := c.fetchIssue(ctx, n)
		switch {
		case err == nil && hasLabel(is.Labels, c.label) && is.Number == n && c.inRepository(is):
			x.put(is, now)
		case err == nil || isGone(err):
			// Unlabelled, transferred (answered from elsewhere) or deleted.
			x.mu.Lock()
			if e, ok := x.entries[n]; ok {
				x.bytes -= e.size()
				delete(x.entries, n)
			}
			x.mu.Unlock()
		default:
			return err
		}
	}
	x.mu.Lock()
	x.openAt = now
	x.mu.Unlock()
	return nil
}

// sinceOf is the lower bound of a listing of what changed after newest:
// a second earlier, as updated_at has whole seconds.
func sinceOf(newest time.Time) time.Time {
	if newest.IsZero() {
		return newest
	}
	return newest.Add(-sinceOverlap)
}

// isGone reports whether GitHub said an issue is not there (deleted, or
// not visible).
func isGone(err error) bool {
	r := Reason(err)
	return r == cxv1.ReasonIssueDeleted || r == cxv1.ReasonIssueNotFound
}

// inRepository reports whether an issue GitHub answered is in the client's
// repository (by name in the spec, or as GitHub calls it now), and not one
// that a transfer's redirect led to.
func (c *Client) inRepository(is cachedIssue) bool {
	u, err := url.Parse(is.URL)
	if err != nil {
		return false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 4 || parts[len(parts)-2] != "issues" {
		return false
	}
	name := strings.ToLower(parts[len(parts)-4] + "/" + parts[len(parts)-3])
	if name == strings.ToLower(c.cfg.Owner+"/"+c.cfg.Repo) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.repository != nil && strings.EqualFold(c.repository.FullName, name)
}

// errNotModified: the first page of a conditional listing was unchanged.
var errNotModified = errors.New("not modified")

// listQuery is the path of a listing of the labelled issues.
func (c *Client) listQuery(state, direction string, since time.Time) string {
	q := url.Values{}
	q.Set("state", state)
	q.Set("labels", c.label)
	q.Set("sort", "updated")
	q.Set("direction", direction)
	q.Set("per_page", strconv.Itoa(c.perPage))
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	return c.repoPath() + "/issues?" + q.Encode()
}

// listPages walks a listing page by page, handing each issue (pull
// requests left out) to each and dropping the page; read, if given, hears
// of each page read (its number and ETag). The first page is asked with
// If-None-Match when etag is set; errNotModified says it was unchanged.
// The pages bypass the store of conditional answers (etagAnswers), which
// would keep every page's body.
func (c *Client) listPages(ctx context.Context, next, etag string, each func(cachedIssue) error, read ...func(page int, etag string)) error {
	ctx = context.WithValue(ctx, skipETagCache{}, true)
	for page := 0; next != ""; page++ {
		if page >= maxIndexPages {
			return &APIError{Reason: cxv1.ReasonInternalError, Message: fmt.Sprintf("more than %d pages of issues labelled %q", maxIndexPages, c.label)}
		}
		req, err := c.gh.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		if page == 0 && etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		var items []*github.Issue
		resp, err := c.gh.Do(ctx, req, &items)
		var ger *github.ErrorResponse
		if page == 0 && errors.As(err, &ger) && ger.Response != nil && ger.Response.StatusCode == http.StatusNotModified {
			return errNotModified
		}
		if err != nil {
			return c.mapError(err, opRepo)
		}
		c.noteRedirect(req, resp)
		for _, f := range read {
			f(page, resp.Header.Get("ETag"))
		}
		for _, g := range items {
			if g.IsPullRequest() {
				continue
			}
			if err := each(toIssue(g)); err != nil {
				return err
			}
		}
		next = nextLink(resp.Header.Get("Link"))
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
				return &APIError{Reason: cxv1.ReasonInternalError, Message: "pagination link points outside the API host"}
			}
		}
	}
	return nil
}

// skipETagCache marks requests whose answers the ETag cache must not keep.
type skipETagCache struct{}
