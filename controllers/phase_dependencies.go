package controllers

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// maxPhaseChain bounds the walk along spec.after: a journey has four
// phases, but one may be repeated; anything this long is a cycle or a mistake.
const maxPhaseChain = 32

// dependency is what the phase named in spec.after means for a phase.
type dependency struct {
	// waiting: the phase must wait (message says for what).
	waiting bool
	// stalledReason is set when the phase can never start as declared.
	stalledReason string
	message       string
}

// previousPhase checks the phase named in spec.after. A phase after itself,
// a cycle of phases, or an `after` naming a phase of another journey can
// never complete in order: they are reported naming spec.after, instead of
// a phase waiting Pending for ever without saying why.
func previousPhase(ctx context.Context, c client.Reader, ph *cxv1.ImprovementPhase) (dependency, error) {
	if ph.Spec.After == "" {
		return dependency{}, nil
	}
	if ph.Spec.After == ph.Name {
		return dependency{stalledReason: cxv1.ReasonDependencyCycle, message: fmt.Sprintf("spec.after names the phase itself (%q): a phase cannot wait for its own completion", ph.Name)}, nil
	}
	var prev cxv1.ImprovementPhase
	if err := c.Get(ctx, client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.After}, &prev); err != nil {
		if apierrors.IsNotFound(err) {
			return dependency{waiting: true, message: fmt.Sprintf("waiting for phase %q named in spec.after, which does not exist yet", ph.Spec.After)}, nil
		}
		return dependency{}, err
	}
	if prev.Spec.JourneyRef.Name != ph.Spec.JourneyRef.Name {
		return dependency{stalledReason: cxv1.ReasonInvalidAfter, message: fmt.Sprintf("spec.after names phase %q of journey %q, but this phase improves journey %q: phases follow each other within one journey",
			prev.Name, prev.Spec.JourneyRef.Name, ph.Spec.JourneyRef.Name)}, nil
	}
	if cycle, err := cycleThrough(ctx, c, ph); err != nil || cycle != nil {
		if err != nil {
			return dependency{}, err
		}
		return dependency{stalledReason: cxv1.ReasonDependencyCycle, message: fmt.Sprintf("spec.after makes a cycle: %s; no phase of it can ever start", strings.Join(cycle, " → "))}, nil
	}
	if prev.Status.State != cxv1.PhaseCompleted {
		// Not its progress: the message would change, and this phase's
		// status be written, with every issue the previous phase opens or
		// closes (its progress is on that phase, and the status page).
		return dependency{waiting: true, message: fmt.Sprintf("waiting for phase %s (%s) to complete", prev.Name, prev.Spec.Type)}, nil
	}
	return dependency{}, nil
}

// cycleThrough follows spec.after from ph and returns the cycle it runs
// into that includes ph (ph … ph), or nil. A chain that ends (a phase
// without after, or naming one that does not exist) has no cycle; a cycle
// further along that does not include ph is that other phase's to report.
func cycleThrough(ctx context.Context, c client.Reader, ph *cxv1.ImprovementPhase) ([]string, error) {
	path := []string{ph.Name}
	seen := map[string]bool{ph.Name: true}
	next := ph.Spec.After
	for range maxPhaseChain {
		if next == "" {
			return nil, nil
		}
		if next == ph.Name {
			return append(path, next), nil
		}
		if seen[next] {
			return nil, nil
		}
		seen[next] = true
		path = append(path, next)
		var p cxv1.ImprovementPhase
		if err := c.Get(ctx, client.ObjectKey{Namespace: ph.Namespace, Name: next}, &p); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		next = p.Spec.After
	}
	return nil, nil
}
