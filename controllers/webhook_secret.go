package controllers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// The keys of the GitHub webhook Secret.
const (
	// WebhookSecretKey holds the secret GitHub signs its deliveries with.
	WebhookSecretKey = "secret"
	// WebhookPreviousSecretKey (optional) holds the secret being rotated
	// out: deliveries signed with it are accepted as long as it is there.
	WebhookPreviousSecretKey = "previous-secret"
)

// WebhookSecrets serves the GitHub webhook's secrets to the endpoint from
// memory: the current one first, then the previous one during a rotation.
// Reading them costs nothing, so the endpoint reads them only for a
// delivery that holds a slot, and never asks the API server.
type WebhookSecrets struct {
	secrets atomic.Pointer[[][]byte]
	// refresh, when set, re-reads the secrets now and then (files).
	refresh func()
}

// Secrets returns the current secret and, during a rotation, the previous
// one; none until they are known.
func (s *WebhookSecrets) Secrets() [][]byte {
	if s.refresh != nil {
		s.refresh()
	}
	if p := s.secrets.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *WebhookSecrets) set(current, previous []byte) {
	var out [][]byte
	for _, v := range [][]byte{current, previous} {
		if v = bytes.TrimSpace(v); len(v) > 0 {
			out = append(out, v)
		}
	}
	s.secrets.Store(&out)
}

// WatchWebhookSecret serves the secrets of the Secret namespace/name (keys
// WebhookSecretKey and WebhookPreviousSecretKey) from a watch on that one
// Secret: a cache of its own, restricted by namespace and metadata.name,
// started with the manager on every replica. The manager's main cache
// holds no Secrets. The manager needs get, list and watch on it (a Role
// with resourceNames: [name] suffices).
func WatchWebhookSecret(ctx context.Context, mgr manager.Manager, namespace, name string) (*WebhookSecrets, error) {
	if namespace == "" || name == "" {
		return nil, fmt.Errorf("the webhook Secret needs a namespace (POD_NAMESPACE) and a name, got %q/%q", namespace, name)
	}
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme:            mgr.GetScheme(),
		Mapper:            mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Field: fields.OneTermEqualSelector("metadata.name", name)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watching the webhook Secret %s/%s: %w", namespace, name, err)
	}
	informer, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return nil, fmt.Errorf("watching the webhook Secret %s/%s: %w", namespace, name, err)
	}
	s := &WebhookSecrets{}
	follow := func(o any) {
		if sec, ok := o.(*corev1.Secret); ok && sec.Name == name {
			s.set(sec.Data[WebhookSecretKey], sec.Data[WebhookPreviousSecretKey])
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    follow,
		UpdateFunc: func(_, o any) { follow(o) },
		DeleteFunc: func(any) { s.set(nil, nil) },
	}); err != nil {
		return nil, err
	}
	if err := mgr.Add(everyReplica{c}); err != nil {
		return nil, err
	}
	return s, nil
}

// everyReplica runs a cache on every replica, leader or not, without
// holding up the manager's start until it syncs. (A cache of namespaces
// of its own is no LeaderElectionRunnable, and the manager would run it
// on the leader only: followers would refuse every delivery.)
type everyReplica struct{ cache.Cache }

func (everyReplica) NeedLeaderElection() bool { return false }

// fileCheckInterval bounds how often the secret files are looked at.
var fileCheckInterval = 10 * time.Second

// FileWebhookSecrets serves the secrets from files (previous optional):
// read at start, then re-read when their size or modification time
// changed, looked at no more than once every 10 s.
func FileWebhookSecrets(current, previous string) (*WebhookSecrets, error) {
	s := &WebhookSecrets{}
	type seen struct {
		size int64
		mod  time.Time
	}
	var (
		mu      sync.Mutex
		checked time.Time
		last    [2]seen
	)
	files := [2]string{current, previous}
	load := func(force bool) error {
		var now [2]seen
		var data [2][]byte
		for i, f := range files {
			if f == "" {
				continue
			}
			st, err := os.Stat(f)
			if err != nil {
				if i == 1 && os.IsNotExist(err) {
					continue // no previous secret: none accepted
				}
				return fmt.Errorf("reading the webhook secret: %w", err)
			}
			now[i] = seen{st.Size(), st.ModTime()}
		}
		if !force && now == last {
			return nil
		}
		for i, f := range files {
			if f == "" || now[i] == (seen{}) {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("reading the webhook secret: %w", err)
			}
			data[i] = b
		}
		last = now
		s.set(data[0], data[1])
		return nil
	}
	if err := load(true); err != nil {
		return nil, err
	}
	checked = time.Now()
	s.refresh = func() {
		if !mu.TryLock() {
			return // another delivery is looking: serve what is known
		}
		defer mu.Unlock()
		if time.Since(checked) < fileCheckInterval {
			return
		}
		checked = time.Now()
		// A file that cannot be read keeps the secrets last read.
		_ = load(false)
	}
	return s, nil
}
