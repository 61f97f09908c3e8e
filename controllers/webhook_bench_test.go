package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/ghwebhook"
)

// BenchmarkWebhookDelivery measures what one verified delivery about an
// issue costs the manager when 50 journeys of 140 touchpoints share its
// repository: finding the journeys of the repository in the cache and
// waking the one whose issue it is. B/op is the memory it allocates; a
// copy of every journey of the repository was 3.7 MB.
//
//	go test ./controllers -run '^$' -bench WebhookDelivery -benchmem
func BenchmarkWebhookDelivery(b *testing.B) {
	const journeys = 50
	ctx := context.Background()
	ns := namespaceFor(b)
	repo := "shared-" + ns
	for i := range journeys {
		cj := bigJourney(ns, 140, 4)
		cj.Name = fmt.Sprintf("journey-%02d", i)
		cj.Spec.Tracker = &cxv1.TrackerSpec{GitHub: &cxv1.GitHubTracker{Owner: ghOwner, Repo: repo, SecretRef: cxv1.SecretReference{Name: "github"}}}
		if err := k8sClient.Create(ctx, cj); err != nil {
			b.Fatal(err)
		}
	}
	elected := make(chan struct{})
	close(elected)
	wakeups := NewWakeups(elected)
	var hook *IssueWebhook
	startManager(b, func(mgr ctrl.Manager) error {
		hook = &IssueWebhook{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Wakeups: wakeups}
		return nil
	})
	// Wait for the cache to hold them all, then keep the wake-ups drained
	// as the controllers would.
	for deadline := time.Now().Add(time.Minute); ; {
		found, err := hook.journeysOf(ctx, ghwebhook.IssueEvent{Owner: ghOwner, Repo: repo})
		if err == nil && len(found) == journeys {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the cache holds %d of %d journeys (%v)", len(found), journeys, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	woken := 0
	e := ghwebhook.IssueEvent{Action: "closed", Owner: ghOwner, Repo: repo, Number: 7, State: "closed",
		Body: "Fixed.\n<!-- cxloop:key=" + ns + "/journey-07/painpoint/p1 -->", Labels: []string{"cxloop"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.Delivery = fmt.Sprintf("d-%d", i)
		if err := hook.OnIssue(ctx, e); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for len(wakeups.journeys) > 0 {
			if (<-wakeups.journeys).Object.GetName() != "journey-07" {
				b.Fatal("woke another journey")
			}
			woken++
		}
		for len(wakeups.phases) > 0 {
			<-wakeups.phases
		}
		b.StartTimer()
	}
	b.StopTimer()
	if woken != b.N {
		b.Fatalf("woke the journey %d times for %d deliveries", woken, b.N)
	}
	var cj cxv1.CustomerJourney
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "journey-07"}, &cj); err != nil || cj.Annotations[AnnotationGitHubDelivery] != "" {
		b.Fatalf("the leader wrote the delivery on the journey (%v)", err)
	}
}
