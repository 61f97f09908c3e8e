// Package ghwebhook receives GitHub's `issues` webhooks so that cxloop
// reacts within seconds when a product owner closes, reopens, edits,
// deletes or transfers an issue, instead of waiting for the next poll.
// Every delivery must carry a valid X-Hub-Signature-256; anything unsigned
// or mis-signed is answered 401 and changes nothing. A stranger cannot make
// the manager read more than GitHub's own cap on a delivery (25 MB), nor
// more than a few of those at once, and a replayed delivery ID is accepted
// once.
package ghwebhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

const (
	// DefaultMaxBody is GitHub's cap on a webhook payload: 25 MB.
	DefaultMaxBody = 25 << 20
	// DefaultConcurrency bounds deliveries read at once, so that memory
	// stays bounded by a few bodies whatever arrives.
	DefaultConcurrency = 4
	// rememberedDeliveries is how many delivery IDs are kept to refuse replays.
	rememberedDeliveries = 4096
)

// IssueEvent is what an `issues` delivery says about one issue.
type IssueEvent struct {
	// Action is GitHub's: opened, edited, closed, reopened, deleted, transferred, labeled, …
	Action string
	Owner  string
	Repo   string
	// RepoID is GitHub's ID of the repository, which stays when it is
	// renamed or transferred.
	RepoID int64
	Number int
	State  string
	// Body is the issue's body, which carries cxloop's key marker.
	Body string
	// NewOwner, NewRepo and NewNumber say where a transferred issue went.
	NewOwner, NewRepo string
	NewNumber         int
	// Delivery is GitHub's X-GitHub-Delivery ID.
	Delivery string
}

// Handler verifies and parses deliveries and passes issue events on.
type Handler struct {
	// Secret returns the webhook secret. It is read at each delivery so a
	// rotated Secret takes effect without a restart.
	Secret func() ([]byte, error)
	// OnIssue is called for each verified `issues` event; an error answers
	// 503, so that the delivery shows as failed on GitHub and can be redelivered.
	OnIssue func(context.Context, IssueEvent) error
	// MaxBody bounds a delivery's size (default DefaultMaxBody); larger
	// ones are answered 413 without being read.
	MaxBody int64
	// Concurrency bounds the deliveries read at once (default DefaultConcurrency).
	Concurrency int

	once       sync.Once
	slots      chan struct{}
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
		h.deliveries = map[string]bool{}
	})
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
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

// ServeHTTP answers 401 to unsigned or mis-signed deliveries, 413 to
// oversized ones, 400 to unreadable ones, 202 to verified ones, 200 to a
// delivery ID seen before (without acting again), and 204 to verified
// events of other kinds.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	if r.Method != http.MethodPost {
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	// Refuse what is too large before reading a byte of it.
	if r.ContentLength > h.maxBody() {
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	if r.Header.Get(github.SHA256SignatureHeader) == "" {
		http.Error(w, "missing X-Hub-Signature-256", http.StatusUnauthorized)
		return
	}
	secret, err := h.Secret()
	if err != nil || len(secret) == 0 {
		// Without a secret nothing can be verified, so nothing is accepted.
		http.Error(w, "webhook secret not configured", http.StatusServiceUnavailable)
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-r.Context().Done():
		return
	case <-time.After(10 * time.Second):
		http.Error(w, "too many deliveries at once", http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody())
	payload, err := github.ValidatePayload(r, secret)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	event, err := github.ParseWebHook(github.WebHookType(r), payload)
	// A payload of `null` parses without error into no event at all.
	if err != nil || event == nil {
		http.Error(w, "unreadable payload", http.StatusBadRequest)
		return
	}
	ie, ok := event.(*github.IssuesEvent)
	if !ok {
		w.WriteHeader(http.StatusNoContent) // ping and other events: nothing to do
		return
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
	if h.OnIssue != nil {
		e := issueEvent(ie, payload)
		e.Delivery = delivery
		if err := h.OnIssue(r.Context(), e); err != nil {
			h.forget(delivery)
			http.Error(w, "could not record the delivery; redeliver it", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// transfer is the part of a `transferred` payload that go-github v60 does not model.
type transfer struct {
	Changes struct {
		NewIssue struct {
			Number int `json:"number"`
		} `json:"new_issue"`
		NewRepository struct {
			Name  string `json:"name"`
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"new_repository"`
	} `json:"changes"`
}

func issueEvent(e *github.IssuesEvent, payload []byte) IssueEvent {
	out := IssueEvent{Action: e.GetAction()}
	if repo := e.GetRepo(); repo != nil {
		out.Owner, out.Repo, out.RepoID = repo.GetOwner().GetLogin(), repo.GetName(), repo.GetID()
	}
	if is := e.GetIssue(); is != nil {
		out.Number, out.State, out.Body = is.GetNumber(), is.GetState(), is.GetBody()
	}
	if out.Action == "transferred" {
		var t transfer
		if json.Unmarshal(payload, &t) == nil {
			out.NewNumber = t.Changes.NewIssue.Number
			out.NewOwner, out.NewRepo = t.Changes.NewRepository.Owner.Login, t.Changes.NewRepository.Name
		}
	}
	return out
}
