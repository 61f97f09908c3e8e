package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// TestLeaderLeaseCheck: a create goes only while the Lease won at the
// election is still held by this replica and not expired.
func TestLeaderLeaseCheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := namespace(t)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: LeaderElectionID},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("replica-a"), LeaseDurationSeconds: ptr.To[int32](15), RenewTime: &metav1.MicroTime{Time: time.Now()}}}
	if err := k8sClient.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	l := &leaderLease{reader: k8sClient, key: types.NamespacedName{Namespace: ns, Name: LeaderElectionID}}
	if err := l.check(ctx); !errors.Is(err, errNotLeader) {
		t.Errorf("before the election was seen: %v, want errNotLeader", err)
	}
	go func() { _ = l.Start(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for l.check(ctx) != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := l.check(ctx); err != nil {
		t.Fatalf("holding the Lease: %v", err)
	}
	for _, tt := range []struct {
		name   string
		holder string
		renew  time.Time
		want   error
	}{
		{"another replica took it", "replica-b", time.Now(), errNotLeader},
		{"still ours, but not renewed for longer than its duration", "replica-a", time.Now().Add(-20 * time.Second), errNotLeader},
		{"ours and renewed", "replica-a", time.Now(), nil},
	} {
		if err := k8sClient.Get(ctx, l.key, lease); err != nil {
			t.Fatal(err)
		}
		lease.Spec.HolderIdentity, lease.Spec.RenewTime = ptr.To(tt.holder), &metav1.MicroTime{Time: tt.renew}
		if err := k8sClient.Update(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if err := l.check(ctx); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	var none *leaderLease
	if err := none.check(ctx); err != nil {
		t.Errorf("without leader election: %v", err)
	}
}
