package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/steps"
)

// CustomerJourneyReconciler scores a journey map, lists its gaps and shows
// its active phase.
type CustomerJourneyReconciler struct {
	client.Client
	// APIReader reads the object from the API server when a write of its
	// status meets a Conflict (patchStatus); nil: the manager's, or Client.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	// Trackers gives the journey's issue tracker, for reviews and the dashboard.
	Trackers TrackerSource
	// CreateGrace: see ImprovementPhaseReconciler.CreateGrace.
	CreateGrace time.Duration
	// Metrics reads the map's measures; nil reads none (MeasuresReady says so).
	Metrics metricsource.Source
	// Wakeups are GitHub deliveries this replica received (optional).
	Wakeups *Wakeups

	// Shard says which journeys are this manager's: those of its cache
	// (nil: all of them).
	Shard *Shard

	// retries backs each journey off after GitHub failures that may pass.
	retries githubRetries
	// leader checks the Lease is still this replica's before a create (nil: no leader election).
	leader *leaderLease
	// reconciled, when set, is told of each reconcile of a journey of this shard (tests count them).
	reconciled func(client.ObjectKey)
}

// Only the verbs cxloop uses (test/chart's RBAC table checks them): status
// is written with merge patches; the journey itself is patched only by the
// webhook, which records a delivery in an annotation. Secrets: see rbac.go.
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=customerjourneys,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=customerjourneys/status,verbs=patch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=improvementphases,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings a journey's status up to date with its map: it runs
// journeySteps, then writes Ready from what they found and the status in
// one patch, on every return path and only when it changed.
func (r *CustomerJourneyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	var cj cxv1.CustomerJourney
	if err := r.Get(ctx, req.NamespacedName, &cj); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.reconciled != nil {
		r.reconciled(req.NamespacedName)
	}
	s := newJourneyState(&cj)
	defer func() {
		summarizeReady(&cj.Status.Conditions, cj.Generation, s.ready)
		cj.Status.ObservedGeneration = cj.Generation
		patchErr := lookAgainIfStale(&result, patchStatus(ctx, r.Client, liveReader(r.APIReader, r.Client), s.persisted, &cj, r.Recorder, &s.news))
		if patchErr != nil && err == nil {
			err = patchErr
		}
	}()
	res, err := steps.Run(ctx, s, r.journeySteps())
	return ctrl.Result{RequeueAfter: res.RequeueAfter}, err
}

// forget frees what cxloop kept for a journey that is gone: its GitHub
// client (and with the last journey of a repository, the repository's
// issue index) and its metric series.
func (r *CustomerJourneyReconciler) forget(key client.ObjectKey) {
	if f, ok := r.Trackers.(interface{ Forget(client.ObjectKey) }); ok {
		f.Forget(key)
	}
	journeyHealth.DeleteLabelValues(key.Namespace, key.Name)
}

// SetupWithManager registers the reconciler: it watches journeys (their
// map, and GitHub webhook deliveries recorded on them) and the phases that
// refer to them.
func (r *CustomerJourneyReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&cxv1.CustomerJourney{}, builder.WithPredicates(journeyChanged)).
		Watches(&cxv1.ImprovementPhase{}, handler.EnqueueRequestsFromMapFunc(journeyOfPhase), builder.WithPredicates(r.Shard.journeyEventsOfPhases())).
		// A credentials Secret applied after its journey, or rotated,
		// connects the journey at once (the cache holds only opted-in ones).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var reqs []reconcile.Request
			for _, cj := range journeysOfSecret(ctx, r.Client, o) {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&cj)})
			}
			return reqs
		}))
	if r.Wakeups != nil {
		b = b.WatchesRawSource(r.Wakeups.source(r.Wakeups.journeys, func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(o)}}
		}))
	}
	return b.WithOptions(withCappedRetries(opts)).
		Named("customerjourney").
		Complete(routineRequeues(r))
}
