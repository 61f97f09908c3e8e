// Package ghwebhook receives GitHub's `issues` webhooks so that cxloop
// reacts within seconds when a product owner closes, reopens, edits,
// deletes or transfers an issue, instead of waiting for the next poll.
// Every delivery must carry a valid X-Hub-Signature-256; anything unsigned
// or mis-signed is answered 401 and changes nothing.
package ghwebhook

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// IssueEvent is what an `issues` delivery says about one issue.
type IssueEvent struct {
	// Action is GitHub's: opened, edited, closed, reopened, deleted, transferred, labeled, …
	Action string
	Owner  string
	Repo   string
	Number int
	State  string
	// Body is the issue's body, which carries cxloop's key marker.
	Body string
	// NewOwner, NewRepo and NewNumber say where a transferred issue went.
	NewOwner, NewRepo string
	NewNumber         int
}

// Handler verifies and parses deliveries and passes issue events on.
type Handler struct {
	// Secret returns the webhook secret. It is read at each delivery so a
	// rotated Secret takes effect without a restart.
	Secret func() ([]byte, error)
	// OnIssue is called for each verified `issues` event.
	OnIssue func(IssueEvent)
}

// ServeHTTP answers 401 to unsigned or mis-signed deliveries, 202 to
// verified ones, and 204 to verified events of other kinds.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	secret, err := h.Secret()
	if err != nil || len(secret) == 0 {
		// Without a secret nothing can be verified, so nothing is accepted.
		http.Error(w, "webhook secret not configured", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get(github.SHA256SignatureHeader) == "" {
		http.Error(w, "missing X-Hub-Signature-256", http.StatusUnauthorized)
		return
	}
	payload, err := github.ValidatePayload(r, secret)
	if err != nil {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	event, err := github.ParseWebHook(github.WebHookType(r), payload)
	if err != nil {
		http.Error(w, fmt.Sprintf("unreadable payload: %v", err), http.StatusBadRequest)
		return
	}
	ie, ok := event.(*github.IssuesEvent)
	if !ok {
		w.WriteHeader(http.StatusNoContent) // ping and other events: nothing to do
		return
	}
	if h.OnIssue != nil {
		h.OnIssue(issueEvent(ie, payload))
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
		out.Owner, out.Repo = repo.GetOwner().GetLogin(), repo.GetName()
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
