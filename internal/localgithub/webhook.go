package localgithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sign returns the X-Hub-Signature-256 value GitHub sends with a webhook:
// "sha256=" and the hex HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery is one webhook delivery, as listed in a GitHub App's or
// repository's "Recent Deliveries".
type Delivery struct {
	// ID is the X-GitHub-Delivery header, a UUID.
	ID string
	// Event is the X-GitHub-Event header, such as "issues".
	Event string
	// Action is the payload's action, such as "opened".
	Action string
	// URL is where the delivery is sent: the webhook URL when the change
	// happened.
	URL string
	// Payload is the exact body posted.
	Payload []byte
	// Signature is the X-Hub-Signature-256 header.
	Signature string
	// Attempts counts the POSTs made so far.
	Attempts int
	// StatusCode is the receiver's last answer, 0 if none.
	StatusCode int
	// Err describes the last failure, empty after success.
	Err string
	// Delivered reports whether the receiver answered 2xx.
	Delivered bool
	// Done reports whether delivery finished, delivered or not.
	Done bool
}

// webhookAttempts is how many times a delivery is tried.
const webhookAttempts = 3

// webhooks delivers payloads in order from one background goroutine.
type webhooks struct {
	client *http.Client
	ctx    context.Context
	stop   context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	changed    *sync.Cond
	url        string
	secret     []byte
	deliveries []*Delivery
	next       int // index of the first delivery not done
	retryDelay time.Duration
}

func newWebhooks() *webhooks {
	ctx, stop := context.WithCancel(context.Background())
	h := &webhooks{
		client:     &http.Client{Timeout: 10 * time.Second},
		ctx:        ctx,
		stop:       stop,
		done:       make(chan struct{}),
		retryDelay: 200 * time.Millisecond,
	}
	h.changed = sync.NewCond(&h.mu)
	go h.run()
	return h
}

// SetWebhook sends signed `issues` webhooks for every issue change to url,
// signed with secret. An empty url stops sending. It applies to changes made
// after the call.
func (s *Server) SetWebhook(url, secret string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url = url
	s.hooks.secret = []byte(secret)
}

// Deliveries returns copies of all webhook deliveries, oldest first,
// including those still pending.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]Delivery, len(s.hooks.deliveries))
	for i, d := range s.hooks.deliveries {
		out[i] = *d
		out[i].Payload = bytes.Clone(d.Payload)
	}
	return out
}

// WaitForDeliveries blocks until every queued webhook delivery has finished
// (delivered or given up) or ctx ends.
func (s *Server) WaitForDeliveries(ctx context.Context) error {
	h := s.hooks
	stop := context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.changed.Broadcast()
	})
	defer stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.next < len(h.deliveries) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.ctx.Err() != nil {
			return fmt.Errorf("localgithub: server closed with %d deliveries pending", len(h.deliveries)-h.next)
		}
		h.changed.Wait()
	}
	return nil
}

// enqueue queues a delivery if a webhook is configured.
func (h *webhooks) enqueue(event, action string, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.url == "" {
		return
	}
	h.deliveries = append(h.deliveries, &Delivery{
		ID:        newUUID(),
		Event:     event,
		Action:    action,
		URL:       h.url,
		Payload:   payload,
		Signature: Sign(h.secret, payload),
	})
	h.changed.Broadcast()
}

func (h *webhooks) close() {
	h.stop()
	h.mu.Lock()
	h.changed.Broadcast()
	h.mu.Unlock()
	<-h.done
}

// run delivers queued payloads one at a time, in order.
func (h *webhooks) run() {
	defer close(h.done)
	for {
		h.mu.Lock()
		for h.next >= len(h.deliveries) && h.ctx.Err() == nil {
			h.changed.Wait()
		}
		if h.ctx.Err() != nil {
			h.mu.Unlock()
			return
		}
		d := h.deliveries[h.next]
		h.mu.Unlock()

		h.deliver(d.URL, d)

		h.mu.Lock()
		d.Done = true
		h.next++
		h.changed.Broadcast()
		h.mu.Unlock()
	}
}

// deliver POSTs one payload, retrying with growing pauses.
func (h *webhooks) deliver(url string, d *Delivery) {
	for attempt := 1; attempt <= webhookAttempts; attempt++ {
		status, err := h.post(url, d)
		h.mu.Lock()
		d.Attempts = attempt
		d.StatusCode = status
		d.Err = ""
		if err != nil {
			d.Err = err.Error()
		}
		d.Delivered = err == nil
		h.mu.Unlock()
		if err == nil {
			return
		}
		select {
		case <-time.After(time.Duration(attempt) * h.retryDelay):
		case <-h.ctx.Done():
			return
		}
	}
}

func (h *webhooks) post(url string, d *Delivery) (int, error) {
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/localgithub")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", d.Signature)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// event is an issue change to announce.
type event struct {
	action   string
	changes  map[string]any
	label    *label
	assignee string
}

// issuesEvent is the payload of GitHub's `issues` webhook event.
type issuesEvent struct {
	Action     string          `json:"action"`
	Issue      *issueJSON      `json:"issue"`
	Changes    any             `json:"changes,omitempty"`
	Label      *labelJSON      `json:"label,omitempty"`
	Assignee   *userJSON       `json:"assignee,omitempty"`
	Repository *repositoryJSON `json:"repository"`
	Sender     *userJSON       `json:"sender"`
}

// emitLocked queues the `issues` webhook for a change of is.
func (s *Server) emitLocked(l links, repo *repository, is *issue, sender user, ev event) {
	payload := issuesEvent{
		Action:     ev.action,
		Issue:      l.issue(repo, is),
		Repository: l.repository(repo),
		Sender:     l.user(sender),
	}
	switch {
	case ev.changes != nil:
		payload.Changes = ev.changes
	case ev.action == "edited":
		payload.Changes = map[string]any{}
	}
	if ev.label != nil {
		payload.Label = l.label(repo, ev.label)
	}
	if ev.assignee != "" {
		payload.Assignee = l.user(userNamed(ev.assignee))
	}
	s.emitPayloadLocked(ev.action, payload)
}

// emitPayloadLocked queues an `issues` payload.
func (s *Server) emitPayloadLocked(action string, payload issuesEvent) {
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("localgithub: encoding webhook", "err", err)
		return
	}
	s.hooks.enqueue("issues", action, body)
}

// repositoryEvent is the payload of GitHub's `repository` webhook event.
type repositoryEvent struct {
	Action     string          `json:"action"`
	Changes    any             `json:"changes,omitempty"`
	Repository *repositoryJSON `json:"repository"`
	Sender     *userJSON       `json:"sender"`
}

// emitRepositoryLocked queues the `repository` webhook of a rename
// (changes.repository.name.from) or a transfer (changes.owner.from).
func (s *Server) emitRepositoryLocked(l links, repo *repository, oldOwner, oldName string) {
	payload := repositoryEvent{Action: "renamed", Repository: l.repository(repo), Sender: l.user(tokenUser)}
	if !strings.EqualFold(oldOwner, repo.Owner) {
		payload.Action = "transferred"
		payload.Changes = map[string]any{"owner": map[string]any{"from": map[string]any{"user": l.user(userNamed(oldOwner))}}}
	} else {
		payload.Changes = map[string]any{"repository": map[string]any{"name": map[string]any{"from": oldName}}}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("localgithub: encoding webhook", "err", err)
		return
	}
	s.hooks.enqueue("repository", payload.Action, body)
}
