// Package ghwebhook receives GitHub's webhooks so that cxloop reacts within
// seconds when a product owner closes, reopens, edits, deletes or transfers
// an issue, instead of waiting for the next poll.
//
// The endpoint faces the internet, so it spends nothing on a stranger:
//
//   - What can be refused unread is: a method other than POST (405), a body
//     that is not JSON (415), no or a malformed X-Hub-Signature-256 (401), a
//     Content-Length above MaxBody (413). Events cxloop does not use (see
//     usedEvents) are acknowledged with 204 unread, so that they never show
//     as failed deliveries on GitHub.
//   - The rest waits briefly for one of a bounded number of delivery slots
//     and for its share of a bounded budget of in-flight bytes (its
//     Content-Length, or MaxBody when it does not say), and only then reads
//     the secrets (a cached value, never an API call) and the body.
//   - The body is read within BodyReadTimeout, cut at MaxBody, and hashed
//     as it streams in; nothing is parsed before its HMAC matches the current
//     or the previous secret (rotation).
//   - A replayed delivery ID is accepted once.
package ghwebhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/sync/semaphore"
)

const (
	// DefaultMaxBody bounds a delivery: 1 MiB. Measured, not guessed
	// (TestBodyCapFitsTheLargestIssueDelivery): GitHub caps an issue's body
	// at 65,536 characters, and an `issues` payload carries at most two
	// bodies (`edited`: the issue and changes.body.from; `transferred`: the
	// issue and changes.new_issue). Escaped in the worst way JSON allows
	// (\u0001, six bytes a character) that is 786,432 bytes; the rest of the
	// payload is 9–22 KB in GitHub's own examples (@octokit/webhooks-examples
	// 7.6.1, the largest a `transferred` one), which leaves the remaining
	// 262,144 bytes for ten times that in labels, assignees and the like.
	// GitHub's own cap on any delivery (25 MB) is for events cxloop does not
	// read.
	DefaultMaxBody = 1 << 20
	// DefaultConcurrency bounds the deliveries being read at once.
	DefaultConcurrency = 32
	// DefaultInFlightBytes bounds the bytes of the deliveries being read at
	// once: 16 bodies of the largest size, whatever their number.
	DefaultInFlightBytes = 16 << 20
	// DefaultBodyReadTimeout bounds the time a delivery takes to send its
	// body once it holds a slot. GitHub gives up on a delivery after 10 s
	// and sends its bodies at once; a slow sender holds a slot no longer.
	DefaultBodyReadTimeout = 5 * time.Second
	// DefaultSlotWait bounds the wait for a slot: a delivery that gets none
	// is answered 503 (and shows as failed, to be redelivered) before
	// GitHub's 10 s are up, even when it then takes DefaultBodyReadTimeout.
	DefaultSlotWait = 3 * time.Second
	// rememberedDeliveries is how many delivery IDs are kept to refuse replays.
	rememberedDeliveries = 4096
)

// Server timeouts sized for GitHub, which sends a delivery's headers and
// body at once and gives up on it after 10 s.
const (
	// ServerReadHeaderTimeout bounds the wait for a request's headers.
	ServerReadHeaderTimeout = 5 * time.Second
	// ServerReadTimeout bounds reading a whole request: its headers, the
	// wait for a slot and the body (5 + 3 + 5 s, rounded up).
	ServerReadTimeout = 15 * time.Second
	// ServerWriteTimeout bounds handling a delivery and answering it.
	ServerWriteTimeout = 20 * time.Second
	// ServerIdleTimeout bounds a kept-alive connection between deliveries.
	ServerIdleTimeout = time.Minute
	// ServerMaxHeaderBytes bounds a request's headers: GitHub's are about
	// 1 KB.
	ServerMaxHeaderBytes = 16 << 10
)

// NewServer is an HTTP server for the webhook handler at addr, with the
// timeouts above.
func NewServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: ServerReadHeaderTimeout,
		ReadTimeout: ServerReadTimeout, WriteTimeout: ServerWriteTimeout, IdleTimeout: ServerIdleTimeout,
		MaxHeaderBytes: ServerMaxHeaderBytes}
}

// The events cxloop reads. Every other event is acknowledged (204) unread.
const (
	EventIssues     = "issues"
	EventPing       = "ping"
	EventRepository = "repository"
)

// usedEvents are the events whose bodies are read and verified.
var usedEvents = map[string]bool{EventIssues: true, EventPing: true, EventRepository: true}

// IssueEvent is what an `issues` delivery says about one issue.
type IssueEvent struct {
	// Action is GitHub's: opened, edited, closed, reopened, deleted, transferred, labeled, …
	Action string
	Owner  string
	Repo   string
	// RepoID is GitHub's ID of the repository (payload repository.id),
	// which stays the same when the repository is renamed or transferred.
	RepoID int64
	Number int
	State  string
	// Body is the issue's body, which carries cxloop's key marker.
	Body string
	// Labels are the names of the issue's labels. Unlike the body, only
	// people who may triage the repository can set them.
	Labels []string
	// NewOwner, NewRepo and NewNumber say where a transferred issue went.
	NewOwner, NewRepo string
	NewNumber         int
	// Delivery is GitHub's X-GitHub-Delivery ID.
	Delivery string
}

// RepositoryEvent is what a `repository` delivery says: a repository was
// renamed, transferred, archived, deleted, …
type RepositoryEvent struct {
	// Action is GitHub's: renamed, transferred, archived, deleted, edited, …
	Action string
	// RepoID, Owner and Repo name the repository as it is now.
	RepoID      int64
	Owner, Repo string
	// OldOwner and OldRepo are what it was called before a `transferred`
	// (OldOwner) or `renamed` (OldRepo) action; empty otherwise.
	OldOwner, OldRepo string
	// Delivery is GitHub's X-GitHub-Delivery ID.
	Delivery string
}

// Handler verifies and parses deliveries and passes issue events on.
type Handler struct {
	// Secrets returns the secrets a delivery may be signed with: the
	// current one first, then the previous one while a rotation is under
	// way. It is called once per delivery that holds a slot, so it must be
	// cheap: a cached value, not an API call. None (or only empty ones)
	// answers 503.
	Secrets func() [][]byte
	// OnIssue is called for each verified `issues` event; an error answers
	// 503, so that the delivery shows as failed on GitHub and can be redelivered.
	OnIssue func(context.Context, IssueEvent) error
	// OnRepository is called for each verified `repository` event
	// (optional: 204 without it); an error answers 503.
	OnRepository func(context.Context, RepositoryEvent) error
	// MaxBody bounds a delivery's size (default DefaultMaxBody); larger
	// ones are answered 413, unread when they say so in Content-Length.
	MaxBody int64
	// Concurrency bounds the deliveries read at once (default DefaultConcurrency).
	Concurrency int
	// InFlightBytes bounds the bytes reserved by the deliveries read at once
	// (default DefaultInFlightBytes; at least MaxBody).
	InFlightBytes int64
	// BodyReadTimeout bounds reading one body (default DefaultBodyReadTimeout).
	BodyReadTimeout time.Duration
	// SlotWait bounds the wait for a slot (default DefaultSlotWait).
	SlotWait time.Duration

	once       sync.Once
	slots      chan struct{}
	bytes      *semaphore.Weighted
	mu         sync.Mutex
	deliveries map[string]bool
	order      []string
}

func (h *Handler) init() {
	h.once.Do(func() {
		n := h.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		h.slots = make(chan struct{}, n)
		budget := h.InFlightBytes
		if budget <= 0 {
			budget = DefaultInFlightBytes
		}
		// A delivery of the largest size must fit, or it would wait forever.
		h.bytes = semaphore.NewWeighted(max(budget, h.maxBody()))
		h.deliveries = map[string]bool{}
	})
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// firstDelivery remembers a delivery ID and reports whether it is new.
func (h *Handler) firstDelivery(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deliveries[id] {
		return false
	}
	h.deliveries[id] = true
	h.order = append(h.order, id)
	if len(h.order) > rememberedDeliveries {
		delete(h.deliveries, h.order[0])
		h.order = h.order[1:]
	}
	return true
}

// forget lets a delivery whose handling failed be redelivered.
func (h *Handler) forget(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.deliveries, id)
}

// ServeHTTP answers, in this order: 405 to other methods than POST, 415 to
// bodies that are not JSON, 400 without X-GitHub-Event, 401 without a
// well-formed X-Hub-Signature-256, 204 to events cxloop does not use
// (unread), 413 to oversized bodies, 503 when no slot frees up in time or
// no secret is configured, 401 to mis-signed deliveries, 400 to unreadable
// ones; then 200 to a verified `ping`, 202 to a verified `issues` or
// `repository` event, 200 to a delivery ID seen before (without acting
// again).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		// GitHub's form-encoded deliveries would have to be parsed before
		// they can be verified; the webhook's content type must be JSON.
		http.Error(w, "content type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	event := r.Header.Get(github.EventTypeHeader)
	if event == "" {
		http.Error(w, "missing X-GitHub-Event", http.StatusBadRequest)
		return
	}
	signature, ok := parseSignature(r.Header.Get(github.SHA256SignatureHeader))
	if !ok {
		http.Error(w, "missing or malformed X-Hub-Signature-256", http.StatusUnauthorized)
		return
	}
	if !usedEvents[event] {
		// Acknowledged so that it never shows as failed on GitHub; nothing
		// is read, verified or done.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	maxBody := h.maxBody()
	if r.ContentLength > maxBody {
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	reserve := maxBody // a body of unknown length may be as long as that
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	release, ok := h.acquire(r.Context(), reserve)
	if !ok {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many deliveries at once", http.StatusServiceUnavailable)
		return
	}
	defer release()

	var macs []hash.Hash
	for _, s := range h.secrets() {
		macs = append(macs, hmac.New(sha256.New, s))
	}
	if len(macs) == 0 {
		// Without a secret nothing can be verified, so nothing is accepted.
		http.Error(w, "webhook secret not configured", http.StatusServiceUnavailable)
		return
	}
	// Errors are ignored: a ResponseWriter that cannot set deadlines (a
	// test's recorder) has no connection to hold.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(orDefault(h.BodyReadTimeout, DefaultBodyReadTimeout)))
	writers := make([]io.Writer, len(macs))
	for i, m := range macs {
		writers[i] = m
	}
	body := io.TeeReader(http.MaxBytesReader(w, r.Body, maxBody), io.MultiWriter(writers...))
	payload, err := readBody(body, r.ContentLength, maxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		case errors.As(err, &netErr) && netErr.Timeout():
			http.Error(w, "body not sent in time", http.StatusRequestTimeout)
		default:
			http.Error(w, "could not read the body", http.StatusBadRequest)
		}
		return
	}
	if !matches(macs, signature) {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	h.dispatch(w, r, event, payload)
}

// dispatch acts on a verified delivery.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, event string, payload []byte) {
	if event == EventPing {
		// The signature is checked for ping too, so that GitHub's first
		// delivery tells whether the secrets agree: 200 or 401.
		w.WriteHeader(http.StatusOK)
		return
	}
	var act func(ctx context.Context, delivery string) error
	switch event {
	case EventIssues:
		var p issuesPayload
		if err := json.Unmarshal(payload, &p); err != nil || p.Action == "" {
			http.Error(w, "unreadable payload", http.StatusBadRequest)
			return
		}
		act = func(ctx context.Context, delivery string) error {
			if h.OnIssue == nil {
				return nil
			}
			e := p.event()
			e.Delivery = delivery
			return h.OnIssue(ctx, e)
		}
	case EventRepository:
		var p repositoryPayload
		if err := json.Unmarshal(payload, &p); err != nil || p.Action == "" {
			http.Error(w, "unreadable payload", http.StatusBadRequest)
			return
		}
		if h.OnRepository == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		act = func(ctx context.Context, delivery string) error {
			e := p.event()
			e.Delivery = delivery
			return h.OnRepository(ctx, e)
		}
	}
	delivery := github.DeliveryID(r)
	if delivery == "" {
		// GitHub always names its deliveries; without a name, the payload is its identity.
		sum := sha256.Sum256(payload)
		delivery = "sha256-" + hex.EncodeToString(sum[:12])
	}
	if !h.firstDelivery(delivery) {
		w.WriteHeader(http.StatusOK) // a replay: accepted once already
		return
	}
	if err := act(r.Context(), delivery); err != nil {
		h.forget(delivery)
		http.Error(w, "could not record the delivery; redeliver it", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// acquire takes a delivery slot and reserve bytes of the in-flight budget,
// waiting at most SlotWait for both.
func (h *Handler) acquire(ctx context.Context, reserve int64) (release func(), ok bool) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(h.SlotWait, DefaultSlotWait))
	defer cancel()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	}
	if err := h.bytes.Acquire(ctx, reserve); err != nil {
		<-h.slots
		return nil, false
	}
	return func() { h.bytes.Release(reserve); <-h.slots }, true
}

func (h *Handler) secrets() [][]byte {
	if h.Secrets == nil {
		return nil
	}
	var out [][]byte
	for _, s := range h.Secrets() {
		if len(s) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// readBody reads a body of length bytes (-1: unknown; at most maxBody,
// which r, a MaxBytesReader, enforces) into memory no larger than what
// was reserved for it. Longer bodies are read in pieces, so that a slow
// sender holds only what it sent so far.
func readBody(r io.Reader, length, maxBody int64) ([]byte, error) {
	const piece = 64 << 10
	if length >= 0 && length <= piece {
		// The server ends the body at Content-Length; a shorter one is an error.
		buf := make([]byte, length)
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	var pieces [][]byte
	total := int64(0)
	for {
		size := maxBody - total + 1 // one byte more, for the MaxBytesReader to refuse
		if length >= 0 {
			size = length - total
		}
		p := make([]byte, min(piece, size))
		n, err := io.ReadFull(r, p)
		if n > 0 {
			pieces = append(pieces, p[:n])
			total += int64(n)
		}
		if length >= 0 && total == length {
			break
		}
		if length < 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			break
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
	}
	if len(pieces) == 1 {
		return pieces[0], nil
	}
	buf := make([]byte, 0, total)
	for _, p := range pieces {
		buf = append(buf, p...)
	}
	return buf, nil
}

// parseSignature decodes an X-Hub-Signature-256 value: "sha256=" and 64
// hex digits.
func parseSignature(v string) ([]byte, bool) {
	hexSum, ok := strings.CutPrefix(v, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return nil, false
	}
	sum, err := hex.DecodeString(hexSum)
	return sum, err == nil
}

// matches reports whether signature is the HMAC of the body under any of
// the secrets.
func matches(macs []hash.Hash, signature []byte) bool {
	ok := false
	for _, m := range macs {
		// Every secret is compared, in constant time, whichever matches.
		if hmac.Equal(m.Sum(nil), signature) {
			ok = true
		}
	}
	return ok
}

// The parts of GitHub's payloads that cxloop reads, and nothing else: a
// field GitHub adds or changes elsewhere cannot make a delivery unreadable.
type (
	repository struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	}
	issuesPayload struct {
		Action string `json:"action"`
		Issue  struct {
			Number int    `json:"number"`
			State  string `json:"state"`
			Body   string `json:"body"`
			Labels []struct {
				Name string `json:"name"`
			} `json:"labels"`
		} `json:"issue"`
		Repository repository `json:"repository"`
		Changes    struct {
			// Where a transferred issue went.
			NewIssue struct {
				Number int `json:"number"`
			} `json:"new_issue"`
			NewRepository repository `json:"new_repository"`
		} `json:"changes"`
	}
	repositoryPayload struct {
		Action     string     `json:"action"`
		Repository repository `json:"repository"`
		Changes    struct {
			Repository struct {
				Name struct {
					From string `json:"from"`
				} `json:"name"`
			} `json:"repository"`
			Owner struct {
				From struct {
					User         *struct{ Login string } `json:"user"`
					Organization *struct{ Login string } `json:"organization"`
				} `json:"from"`
			} `json:"owner"`
		} `json:"changes"`
	}
)

func (p *issuesPayload) event() IssueEvent {
	out := IssueEvent{Action: p.Action, Owner: p.Repository.Owner.Login, Repo: p.Repository.Name, RepoID: p.Repository.ID,
		Number: p.Issue.Number, State: p.Issue.State, Body: p.Issue.Body}
	for _, l := range p.Issue.Labels {
		out.Labels = append(out.Labels, l.Name)
	}
	if out.Action == "transferred" {
		out.NewNumber = p.Changes.NewIssue.Number
		out.NewOwner, out.NewRepo = p.Changes.NewRepository.Owner.Login, p.Changes.NewRepository.Name
	}
	return out
}

func (p *repositoryPayload) event() RepositoryEvent {
	out := RepositoryEvent{Action: p.Action, RepoID: p.Repository.ID, Owner: p.Repository.Owner.Login, Repo: p.Repository.Name,
		OldRepo: p.Changes.Repository.Name.From}
	switch from := p.Changes.Owner.From; {
	case from.User != nil:
		out.OldOwner = from.User.Login
	case from.Organization != nil:
		out.OldOwner = from.Organization.Login
	}
	return out
}
