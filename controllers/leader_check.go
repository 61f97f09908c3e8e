package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cxloop/cxloop/internal/tracker"
)

// LeaderElectionID names the leader election Lease (cmd/main.go).
const LeaderElectionID = "cxloop.cx.cxloop.dev"

// errNotLeader: the Lease this manager won is another's now.
var errNotLeader = errors.New("this manager is no longer the leader: another replica holds the Lease")

// leaderLease checks just before a create that the leader election Lease
// is still this manager's: a leader paused (SIGSTOP, a frozen node) and
// resumed after another took over must not send a create the new leader
// may have made. It learns its own identity when elected (it runs only
// then), from the Lease it just won.
type leaderLease struct {
	reader client.Reader
	key    types.NamespacedName

	mu     sync.Mutex
	holder string
}

// Start implements manager.Runnable: it runs once this replica is elected.
func (l *leaderLease) Start(ctx context.Context) error {
	// Until it is read, check refuses every create: nothing is lost but time.
	_ = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		var lease coordinationv1.Lease
		if err := l.reader.Get(ctx, l.key, &lease); err != nil {
			return false, nil
		}
		l.mu.Lock()
		l.holder = ptr.Deref(lease.Spec.HolderIdentity, "")
		l.mu.Unlock()
		return true, nil
	})
	<-ctx.Done()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (l *leaderLease) NeedLeaderElection() bool { return true }

// sendBy bounds when a create decided now may still be sent: within three
// quarters of the attempt's grace, after which a new leader may make it
// (tracker.WithSendBy). Without leader election no other process can, and
// nothing is bounded: a slow create is not given up.
func (l *leaderLease) sendBy(grace time.Duration) func(context.Context) context.Context {
	if l == nil {
		return func(ctx context.Context) context.Context { return ctx }
	}
	deadline := time.Now().Add(grace * 3 / 4)
	return func(ctx context.Context) context.Context { return tracker.WithSendBy(ctx, deadline) }
}

// check fails unless the Lease is held by this replica and not expired.
func (l *leaderLease) check(ctx context.Context) error {
	if l == nil {
		return nil // no leader election
	}
	l.mu.Lock()
	holder := l.holder
	l.mu.Unlock()
	if holder == "" {
		return errNotLeader // not elected (yet)
	}
	var lease coordinationv1.Lease
	if err := l.reader.Get(ctx, l.key, &lease); err != nil {
		return fmt.Errorf("reading the leader election Lease %s: %w", l.key, err)
	}
	if ptr.Deref(lease.Spec.HolderIdentity, "") != holder {
		return errNotLeader
	}
	if lease.Spec.RenewTime != nil && lease.Spec.LeaseDurationSeconds != nil {
		if expiry := lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second); time.Now().After(expiry) {
			return errNotLeader
		}
	}
	return nil
}
