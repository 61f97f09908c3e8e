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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// TrackerSource gives the issue tracker of a journey. Tests swap it.
type TrackerSource interface {
	For(ctx context.Context, cj *cxv1.CustomerJourney) (tracker.Tracker, error)
}

// TrackerConfigError is a tracker that cannot be built until a person acts:
// no tracker in the spec, a missing Secret, malformed credentials.
type TrackerConfigError struct {
	Reason  string
	Message string
	// Waiting is true when nothing is wrong yet: the Secret may simply not
	// have been applied (GitOps tools apply in any order). The journey is
	// Reconciling, not Stalled, and the Secret's creation wakes it.
	Waiting bool
}

func (e *TrackerConfigError) Error() string { return e.Message }

// Trackers builds one GitHub tracker client per journey from the Secret
// named in its spec, and keeps it while the repository and the Secret stay
// the same, so that the client's conditional-request cache lives on.
type Trackers struct {
	// Reader reads the credentials Secrets: the manager's cache, which
	// holds only the Secrets labelled cx.cxloop.dev/credentials=github
	// (CacheOptions), so that cxloop neither caches every Secret of the
	// cluster nor reads one that did not opt in.
	Reader client.Reader
	// APIReader tells a Secret that exists without the opt-in label from a
	// missing one, by its metadata only (optional).
	APIReader client.Reader
	// AllowedHosts are the GitHub API hosts (host[:port]) credentials may
	// be sent to: --github-allowed-hosts; empty means api.github.com.
	AllowedHosts []string
	// allowedHostsNow, when set, is asked instead of AllowedHosts at each
	// use: the tests' local GitHub servers come and go.
	allowedHostsNow func() []string
	// HTTPClient is the base HTTP client (optional).
	HTTPClient *http.Client
	// Now is the clock (optional).
	Now func() time.Time
	// WritesPerMinute and WritesPerHour are each token's write budget (optional).
	WritesPerMinute, WritesPerHour int

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
	// Where the credentials would go is decided before anything is read or
	// sent: a tenant who may edit the journey must not be able to send the
	// namespace's credentials anywhere else.
	allowed := t.AllowedHosts
	if t.allowedHostsNow != nil {
		allowed = t.allowedHostsNow()
	}
	if len(allowed) == 0 {
		allowed = []string{tracker.DefaultAllowedHosts}
	}
	if err := tracker.CheckAPIURL(gh.APIURL, allowed, nil); err != nil {
		return nil, &TrackerConfigError{Reason: cxv1.ReasonHostNotAllowed, Message: "spec.tracker.github.apiURL " + err.Error()}
	}
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: cj.Namespace, Name: gh.SecretRef.Name}
	if err := t.Reader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, t.secretMissing(ctx, key)
		}
		return nil, err
	}
	if err := tracker.CheckCredentialsSecret(&secret); err != nil {
		return nil, &TrackerConfigError{Reason: cxv1.ReasonSecretRefused, Message: "spec.tracker.github.secretRef: " + err.Error()}
	}
	secretAllowed, err := tracker.SecretAllowedHosts(&secret)
	if err != nil {
		return nil, &TrackerConfigError{Reason: cxv1.ReasonInvalidCredentials, Message: "spec.tracker.github.secretRef: " + err.Error()}
	}
	if err := tracker.CheckAPIURL(gh.APIURL, allowed, secretAllowed); err != nil {
		return nil, &TrackerConfigError{Reason: cxv1.ReasonHostNotAllowed, Message: "spec.tracker.github.apiURL " + err.Error()}
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
			return nil, &TrackerConfigError{Reason: cxv1.ReasonInvalidCredentials, Message: "spec.tracker.github.secretRef: " + err.Error()}
		}
		return nil, err
	}
	c, err := tracker.New(tracker.Config{Owner: gh.Owner, Repo: gh.Repo, APIURL: gh.APIURL, Credentials: creds, HTTPClient: t.HTTPClient, Now: t.Now,
		WritesPerMinute: t.WritesPerMinute, WritesPerHour: t.WritesPerHour,
		KeyPrefix: workitem.JourneyPrefix(cj.Namespace, cj.Name)})
	if err != nil {
		return nil, &TrackerConfigError{Reason: cxv1.ReasonInvalidCredentials, Message: "spec.tracker.github: " + err.Error()}
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

// secretMissing says why the journey's Secret is not in the cache: it does
// not exist (yet), which heals when it is applied, or it exists without
// the opt-in label, which a person must add.
func (t *Trackers) secretMissing(ctx context.Context, key client.ObjectKey) error {
	if t.APIReader != nil {
		// A list by name, of metadata only: the manager may list Secrets
		// (for its label-selected cache) but not get them outside its own
		// namespace, and never reads a Secret that did not opt in.
		var meta metav1.PartialObjectMetadataList
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		err := t.APIReader.List(ctx, &meta, client.InNamespace(key.Namespace), client.MatchingFields{"metadata.name": key.Name})
		if err == nil && len(meta.Items) > 0 {
			// Labelling a Secret is often a step of its own after
			// creating it; the watch on labelled Secrets heals the journey
			// when it comes, so kstatus readers wait rather than give up.
			return &TrackerConfigError{Reason: cxv1.ReasonSecretRefused, Waiting: true, Message: fmt.Sprintf("spec.tracker.github.secretRef: Secret %s/%s does not carry the label %s=%s: add it to let cxloop use the Secret as GitHub credentials",
				key.Namespace, key.Name, tracker.CredentialsLabel, tracker.CredentialsLabelValue)}
		}
	}
	return &TrackerConfigError{Reason: cxv1.ReasonSecretNotFound, Waiting: true,
		Message: fmt.Sprintf("Secret %q named in spec.tracker.github.secretRef does not exist in namespace %s (or lacks the label %s=%s); cxloop connects as soon as it is applied",
			key.Name, key.Namespace, tracker.CredentialsLabel, tracker.CredentialsLabelValue)}
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
