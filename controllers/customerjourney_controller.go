package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/steps"
)

// journeySyncInterval is how often a tracked journey's reviews and
// dashboard are checked on GitHub besides webhooks and map changes.
const journeySyncInterval = 10 * time.Minute

// CustomerJourneyReconciler scores a journey map, lists its gaps and shows
// its active phase.
type CustomerJourneyReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
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
		if patchErr := patchStatus(ctx, r.Client, s.persisted, &cj); patchErr != nil && err == nil {
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

// scoreMap fills the journey's summary, health and gaps from the analytics.
// Pain points whose work is closed in any phase no longer count against health.
func scoreMap(cj *cxv1.CustomerJourney, m journey.Map, phases []cxv1.ImprovementPhase) {
	s := journey.Summarize(m, journey.DefaultQuickWins)
	cj.Status.Summary = &cxv1.JourneySummary{
		Personas: int32(s.Personas), Stages: int32(s.Stages), Touchpoints: int32(s.Touchpoints), Channels: int32(s.Channels),
		PainPoints: int32(s.PainPoints), QuickWins: int32(s.QuickWins), MomentsOfTruth: int32(s.MomentsOfTruth), TopTasks: int32(s.TopTasks),
	}
	health := int32(journey.Health(m, resolvedPainPoints(phases)))
	cj.Status.HealthScore = &health
	cj.Status.Gaps = nil
	for _, g := range journey.Gaps(m) {
		cj.Status.Gaps = append(cj.Status.Gaps, cxv1.Gap{Key: g.Key, Kind: string(g.Kind), Message: g.Message})
	}
}

// resolvedPainPoints are the pain points whose issue was closed in any phase.
func resolvedPainPoints(phases []cxv1.ImprovementPhase) map[string]bool {
	resolved := map[string]bool{}
	for _, p := range phases {
		for _, it := range p.Status.Items {
			if it.State == cxv1.ItemClosed && it.Source.PainPoint != "" && it.Source.Kind == itemKindPainPoint {
				resolved[it.Source.PainPoint] = true
			}
		}
	}
	return resolved
}

// activePhase names the journey's Active phase; with several, the earliest in the method's order.
func activePhase(phases []cxv1.ImprovementPhase) string {
	best, bestRank := "", cxv1.PhaseType("").Order()
	for _, p := range phases {
		if p.Status.State != cxv1.PhaseActive {
			continue
		}
		if rank := p.Spec.Type.Order(); rank < bestRank || (rank == bestRank && p.Name < best) {
			best, bestRank = p.Name, rank
		}
	}
	return best
}

// problemsMessage lists the first few problems, each naming its field.
func problemsMessage(problems []journey.Problem) string {
	const shown = 3
	var parts []string
	for i, p := range problems {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(problems)-shown))
			break
		}
		parts = append(parts, p.Error())
	}
	return strings.Join(parts, "; ")
}

// patchStatus writes obj's status when it differs from before's.
func patchStatus[T client.Object](ctx context.Context, c client.Client, before, obj T) error {
	if equality.Semantic.DeepEqual(statusOf(before), statusOf(obj)) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, statusMergeFrom(before)); err != nil {
		logf.FromContext(ctx).Error(err, "writing status")
		return client.IgnoreNotFound(err)
	}
	return nil
}

func statusOf(o client.Object) any {
	switch v := o.(type) {
	case *cxv1.CustomerJourney:
		return v.Status
	case *cxv1.ImprovementPhase:
		return v.Status
	}
	return nil
}

func now(c clock.PassiveClock) metav1.Time { return metav1.NewTime(c.Now().Truncate(time.Second)) }

// SetupWithManager registers the reconciler: it watches journeys (their
// map, and GitHub webhook deliveries recorded on them) and the phases that
// refer to them.
func (r *CustomerJourneyReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
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
