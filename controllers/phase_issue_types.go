package controllers

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
)

// Issue types (spec.tracker.github.issueTypes): which type each of a
// phase's issues gets, and the organisation's types, listed once a while
// per journey.

// issueTypeOf is the issue type the journey names for a phase's issues
// (parent: for its parent issue); "" for none.
func issueTypeOf(cj *cxv1.CustomerJourney, phaseType cxv1.PhaseType, parent bool) string {
	if cj == nil || cj.Spec.Tracker == nil || cj.Spec.Tracker.GitHub == nil {
		return ""
	}
	m := cj.Spec.Tracker.GitHub.IssueTypes
	if parent {
		return m.Parent
	}
	switch phaseType {
	case cxv1.PhaseDiscovery:
		return m.Discovery
	case cxv1.PhaseImprove:
		return m.Improve
	case cxv1.PhasePerfection:
		return m.Perfection
	case cxv1.PhasePersonalization:
		return m.Personalization
	}
	return ""
}

// definedTypes are the issue types the organisation defines (lower-case
// names), asked only when the journey maps a type this run needs.
func (r *ImprovementPhaseReconciler) definedTypes(ctx context.Context, run *phaseRun, rel issueRelations) (map[string]bool, error) {
	itemType, parentType := issueTypeOf(run.cj, run.ph.Spec.Type, false), issueTypeOf(run.cj, run.ph.Spec.Type, true)
	if (itemType == "" && parentType == "") || !typesMissing(run, itemType, parentType) {
		return nil, nil
	}
	types, err := r.issueTypes.get(ctx, client.ObjectKeyFromObject(run.cj), run.tr, rel, r.Clock.Now())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, t := range types {
		out[strings.ToLower(t.Name)] = true
	}
	return out, nil
}

// typesMissing: some issue of the phase lacks the type the journey maps.
func typesMissing(run *phaseRun, itemType, parentType string) bool {
	if p := run.ph.Status.Parent; parentType != "" && p != nil && p.Issue != 0 && p.IssueType != parentType {
		return true
	}
	for _, it := range run.ph.Status.Items {
		if itemType != "" && it.Issue != 0 && it.State != cxv1.ItemObsolete && it.IssueType != itemType {
			return true
		}
	}
	return false
}

// issueTypeCache keeps each journey's organisation's issue types for a
// while, so that typing a phase's issues lists them once, not per reconcile.
type issueTypeCache struct {
	mu sync.Mutex
	m  map[client.ObjectKey]issueTypesEntry
}

type issueTypesEntry struct {
	tr    tracker.Tracker
	at    time.Time
	types []tracker.IssueType
	err   error // a listing GitHub refused (a permission): not asked again for a while either
}

// issueTypesFreshFor is how long a listing of issue types is used: a type
// the organisation adds is taken up within it.
const issueTypesFreshFor = 10 * time.Minute

func (c *issueTypeCache) get(ctx context.Context, journey client.ObjectKey, tr tracker.Tracker, rel issueRelations, now time.Time) ([]tracker.IssueType, error) {
	c.mu.Lock()
	e, ok := c.m[journey]
	c.mu.Unlock()
	if ok && e.tr == tr && now.Sub(e.at) < issueTypesFreshFor {
		if e.err != nil {
			return nil, nil // said when it was refused; no types meanwhile
		}
		return e.types, nil
	}
	types, err := rel.IssueTypes(ctx)
	var pe *tracker.PermissionError
	if err != nil && !errors.As(err, &pe) {
		return nil, err // GitHub failed: asked again next time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[client.ObjectKey]issueTypesEntry{}
	}
	c.m[journey] = issueTypesEntry{tr: tr, at: now, types: types, err: err}
	return types, err
}

func (c *issueTypeCache) forget(journey client.ObjectKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, journey)
}
