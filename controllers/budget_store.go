package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cxloop/cxloop/internal/tracker"
)

// Where the GitHub write budgets are kept: one Lease per token in the
// manager's namespace, the budget in an annotation. A Lease, because the
// manager may already write Leases there (leader election) and nothing else.
const (
	BudgetLeasePrefix    = "cxloop-github-budget-"
	BudgetAnnotation     = "cx.cxloop.dev/github-budget"
	budgetManagedByLabel = "app.kubernetes.io/managed-by"
	budgetManagedByValue = "cxloop"
	budgetComponentLabel = "app.kubernetes.io/component"
	budgetComponentValue = "github-budget"
)

// LeaseBudgetStore is the tracker.BudgetStore of the manager: each token's
// write log of the last hour and any wait GitHub announced, on the Lease
// cxloop-github-budget-<key> of Namespace (key: a hash of the API host and
// of the token's identity, never the token). A save merges with what is
// there (the union of the writes, the later wait) under the Lease's
// resourceVersion, so that two processes that both write — a paused
// ex-leader and its successor — lose none of each other's writes.
type LeaseBudgetStore struct {
	// Reader reads the Lease from the API server (the manager's API
	// reader: Leases are not cached).
	Reader client.Reader
	// Writer creates and updates it.
	Writer client.Writer
	// Namespace is the manager's namespace.
	Namespace string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *LeaseBudgetStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *LeaseBudgetStore) get(ctx context.Context, key string) (*coordinationv1.Lease, tracker.BudgetRecord, error) {
	var rec tracker.BudgetRecord
	lease := &coordinationv1.Lease{}
	if err := s.Reader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: BudgetLeasePrefix + key}, lease); err != nil {
		return nil, rec, err
	}
	if v := lease.Annotations[BudgetAnnotation]; v != "" {
		if err := json.Unmarshal([]byte(v), &rec); err != nil {
			// Unreadable (written by a newer cxloop?): start from what this
			// process knows rather than stop writing for good.
			return lease, tracker.BudgetRecord{}, nil
		}
	}
	return lease, rec, nil
}

// Load implements tracker.BudgetStore.
func (s *LeaseBudgetStore) Load(ctx context.Context, key string) (tracker.BudgetRecord, error) {
	_, rec, err := s.get(ctx, key)
	if apierrors.IsNotFound(err) {
		return tracker.BudgetRecord{}, nil
	}
	if err != nil {
		return rec, fmt.Errorf("reading Lease %s/%s%s: %w", s.Namespace, BudgetLeasePrefix, key, err)
	}
	return rec, nil
}

// Save implements tracker.BudgetStore.
func (s *LeaseBudgetStore) Save(ctx context.Context, key string, rec tracker.BudgetRecord) error {
	_, err := s.SaveShared(ctx, key, rec)
	return err
}

// SaveShared implements tracker.SharedBudgetStore: shards of cxloop on one
// API server keep one budget per token on the same Lease, and each learns
// the others' writes as it saves its own.
func (s *LeaseBudgetStore) SaveShared(ctx context.Context, key string, rec tracker.BudgetRecord) (tracker.BudgetRecord, error) {
	var before tracker.BudgetRecord
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		lease, stored, err := s.get(ctx, key)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		before = stored
		raw, merr := json.Marshal(rec.Merge(stored, s.now()))
		if merr != nil {
			return merr
		}
		if apierrors.IsNotFound(err) {
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: BudgetLeasePrefix + key,
				Labels:      map[string]string{budgetManagedByLabel: budgetManagedByValue, budgetComponentLabel: budgetComponentValue},
				Annotations: map[string]string{BudgetAnnotation: string(raw)}}}
			return s.Writer.Create(ctx, lease)
		}
		if lease.Annotations[BudgetAnnotation] == string(raw) {
			return nil
		}
		if lease.Annotations == nil {
			lease.Annotations = map[string]string{}
		}
		lease.Annotations[BudgetAnnotation] = string(raw)
		return s.Writer.Update(ctx, lease) // conflicts on a stale resourceVersion: merged again
	})
	if err != nil {
		return before, fmt.Errorf("writing Lease %s/%s%s: %w", s.Namespace, BudgetLeasePrefix, key, err)
	}
	return before, nil
}
