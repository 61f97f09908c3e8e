package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// ShardLabel is the label by which journeys are split between managers
// (Flux's sharding.fluxcd.io/key): a manager run with
// --watch-label-selector=sharding.cxloop.dev/key=shard1 reconciles the
// journeys labelled shard1 and their phases, and the main manager, run with
// --watch-label-selector='!sharding.cxloop.dev/key', those without the label.
// Any label selector works; this is the one the chart and the docs use.
const ShardLabel = "sharding.cxloop.dev/key"

// WatchLabelSelector restricts the journeys the manager's cache holds, and
// so what it reconciles, to those matching selector (--watch-label-selector,
// a Kubernetes label selector; empty watches every journey). Phases carry
// no shard label of their own: they follow their journey (see Shard).
func WatchLabelSelector(o *cache.Options, selector string) (labels.Selector, error) {
	if selector == "" {
		return nil, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector: %q is not a label selector: %w", selector, err)
	}
	if sel.Empty() {
		return nil, nil
	}
	for obj, by := range o.ByObject {
		if _, ok := obj.(*cxv1.CustomerJourney); ok {
			by.Label = sel
			o.ByObject[obj] = by
			return sel, nil
		}
	}
	if o.ByObject == nil {
		o.ByObject = map[client.Object]cache.ByObject{}
	}
	o.ByObject[&cxv1.CustomerJourney{}] = cache.ByObject{Label: sel}
	return sel, nil
}

// Shard is the part of the journeys one manager reconciles: those its
// label selector matches, which are the journeys of its cache, and the
// phases of those journeys. Phases are cached whole (a phase's shard is its
// journey's, which a label on the phase could contradict), and a phase is
// this shard's when its journey is in the cache. A phase whose journey does
// not exist (yet: applying a directory often creates phases first) belongs
// to the shard that takes journeys without labels, the main one, which
// says so on the phase; the journey's shard takes the phase over as soon
// as the journey appears. So each journey and each of its phases is
// reconciled by exactly one manager.
type Shard struct {
	// Selector is --watch-label-selector; nil for a manager that
	// reconciles everything.
	Selector labels.Selector
	// Cache is the manager's cache reader (journeys of this shard only).
	Cache client.Reader
	// APIReader asks the API server whether a journey missing from the
	// cache exists in another shard (metadata only).
	APIReader client.Reader
}

// takesUnlabelled: the shard takes journeys without any label, and so the
// phases whose journey does not exist.
func (s *Shard) takesUnlabelled() bool {
	return s == nil || s.Selector == nil || s.Selector.Matches(labels.Set{})
}

// hasJourney: the journey is in this shard's cache.
func (s *Shard) hasJourney(ctx context.Context, key client.ObjectKey) (bool, error) {
	var cj cxv1.CustomerJourney
	err := s.Cache.Get(ctx, key, &cj, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// OwnsPhase reports whether this manager reconciles the phase.
func (s *Shard) OwnsPhase(ctx context.Context, ph *cxv1.ImprovementPhase) (bool, error) {
	if s == nil || s.Selector == nil {
		return true, nil
	}
	key := client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.JourneyRef.Name}
	if ok, err := s.hasJourney(ctx, key); ok || err != nil {
		return ok, err
	}
	if !s.takesUnlabelled() {
		return false, nil
	}
	// Not in this shard's cache: in another shard, or nowhere.
	var meta metav1.PartialObjectMetadata
	meta.SetGroupVersionKind(cxv1.GroupVersion.WithKind("CustomerJourney"))
	err := s.APIReader.Get(ctx, key, &meta)
	if apierrors.IsNotFound(err) {
		return true, nil // no journey: this shard says so on the phase
	}
	if err != nil {
		return false, err
	}
	// This shard's, and the cache has not seen it yet: its arrival wakes
	// the phase again.
	return s.Selector.Matches(labels.Set(meta.Labels)), nil
}

// phaseEvents passes the events of phases this shard may own: those whose
// journey is in its cache and, for the main shard, those whose journey it
// does not hold (OwnsPhase decides). The other shards' phase events never
// reach the workqueue.
func (s *Shard) phaseEvents() predicate.Predicate {
	return s.phasesByJourney(true)
}

// journeyEventsOfPhases passes the phase events whose journey is in this
// shard's cache: the journey controller is woken for its own journeys only.
func (s *Shard) journeyEventsOfPhases() predicate.Predicate {
	return s.phasesByJourney(false)
}

// phasesByJourney passes the events of a phase whose journey is in this
// shard's cache (or whose lookup failed) and, with orUnlabelled on the
// shard that takes unlabelled journeys, those of every other phase too.
// Events of other objects, and all events when the manager is not
// sharded, pass.
func (s *Shard) phasesByJourney(orUnlabelled bool) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		ph, ok := o.(*cxv1.ImprovementPhase)
		if !ok || s == nil || s.Selector == nil {
			return true
		}
		has, err := s.hasJourney(context.Background(), client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.JourneyRef.Name})
		return has || err != nil || (orUnlabelled && s.takesUnlabelled())
	})
}
