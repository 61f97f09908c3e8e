package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// TrackerSource gives the issue tracker of a journey. Tests swap it.
type TrackerSource interface {
	For(ctx context.Context, cj *cxv1.CustomerJourney) (tracker.Tracker, error)
}

// ReasonSecretNotFound is the reason when the journey's credentials Secret is missing.
const ReasonSecretNotFound = "SecretNotFound"

// TrackerConfigError is a tracker that cannot be built until a person acts:
// no tracker in the spec, a missing Secret, malformed credentials.
type TrackerConfigError struct {
	Reason  string
	Message string
}

func (e *TrackerConfigError) Error() string { return e.Message }

// Trackers builds one GitHub tracker client per journey from the Secret
// named in its spec, and keeps it while the repository and the Secret stay
// the same, so that the client's conditional-request cache lives on.
type Trackers struct {
	// Reader reads Secrets; use the manager's API reader so that cxloop
	// does not cache every Secret of the cluster.
	Reader client.Reader
	// HTTPClient is the base HTTP client (optional).
	HTTPClient *http.Client
	// Now is the clock (optional).
	Now func() time.Time
	// WritesPerMinute and WritesPerHour are each token's write budget (optional).
	WritesPerMinute, WritesPerHour int
	// CreateGrace: see ImprovementPhaseReconciler.CreateGrace (optional).
	CreateGrace time.Duration

	mu      sync.Mutex
	clients map[client.ObjectKey]trackerEntry
	// deliveries is the last GitHub delivery seen recorded on each journey.
	deliveries map[client.ObjectKey]string
}

type trackerEntry struct {
	fingerprint string
	tracker     tracker.Tracker
}

// For returns the journey's tracker.
func (t *Trackers) For(ctx context.Context, cj *cxv1.CustomerJourney) (tracker.Tracker, error) {
	if cj.Spec.Tracker == nil || cj.Spec.Tracker.GitHub == nil {
		return nil, &TrackerConfigError{Reason: "NoTracker", Message: "spec.tracker.github is not set: cxloop has nowhere to open issues"}
	}
	gh := cj.Spec.Tracker.GitHub
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: cj.Namespace, Name: gh.SecretRef.Name}
	if err := t.Reader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &TrackerConfigError{Reason: ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q named in spec.tracker.github.secretRef does not exist in namespace %s", gh.SecretRef.Name, cj.Namespace)}
		}
		return nil, err
	}
	fingerprint := fmt.Sprintf("%s/%s@%s#%s/%s", gh.Owner, gh.Repo, gh.APIURL, secret.UID, secret.ResourceVersion)
	jkey := client.ObjectKeyFromObject(cj)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.clients[jkey]; ok && e.fingerprint == fingerprint {
		t.noteDelivery(cj, e.tracker)
		return e.tracker, nil
	}
	creds, err := tracker.CredentialsFromSecret(&secret)
	if err != nil {
		var ce *tracker.CredentialsError
		if errors.As(err, &ce) {
			return nil, &TrackerConfigError{Reason: tracker.ReasonInvalidCredentials, Message: "spec.tracker.github.secretRef: " + err.Error()}
		}
		return nil, err
	}
	c, err := tracker.New(tracker.Config{Owner: gh.Owner, Repo: gh.Repo, APIURL: gh.APIURL, Credentials: creds, HTTPClient: t.HTTPClient, Now: t.Now,
		WritesPerMinute: t.WritesPerMinute, WritesPerHour: t.WritesPerHour, CreateSettle: t.CreateGrace,
		KeyPrefix: workitem.JourneyPrefix(cj.Namespace, cj.Name)})
	if err != nil {
		return nil, &TrackerConfigError{Reason: tracker.ReasonInvalidCredentials, Message: "spec.tracker.github: " + err.Error()}
	}
	if t.clients == nil {
		t.clients = map[client.ObjectKey]trackerEntry{}
	}
	if old, ok := t.clients[jkey]; ok {
		closeTracker(old.tracker) // its share of the repository's issue index
	}
	t.clients[jkey] = trackerEntry{fingerprint: fingerprint, tracker: c}
	t.noteDelivery(cj, c)
	return c, nil
}

// noteDelivery refreshes the repository's issue index at once when a
// replica recorded a new GitHub delivery on the journey (one that this
// replica did not receive itself). t.mu is held.
func (t *Trackers) noteDelivery(cj *cxv1.CustomerJourney, tr tracker.Tracker) {
	d := cj.GetAnnotations()[AnnotationGitHubDelivery]
	key := client.ObjectKeyFromObject(cj)
	if d == "" || t.deliveries[key] == d {
		return
	}
	if t.deliveries == nil {
		t.deliveries = map[client.ObjectKey]string{}
	}
	t.deliveries[key] = d
	if c, ok := tr.(interface{ Invalidate() }); ok {
		c.Invalidate()
	}
}

// Forget frees the tracker of a journey that is gone, and with the last
// journey of a repository, the repository's issue index.
func (t *Trackers) Forget(journey client.ObjectKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.clients[journey]; ok {
		closeTracker(e.tracker)
		delete(t.clients, journey)
		delete(t.deliveries, journey)
	}
}

func closeTracker(tr tracker.Tracker) {
	if c, ok := tr.(interface{ Close() }); ok {
		c.Close()
	}
}
