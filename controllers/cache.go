package controllers

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
)

// CacheOptions is how the manager's informer cache keeps objects: without
// what cxloop never reads, and a journey's map with one copy of each of its
// repeated words.
func CacheOptions() cache.Options {
	return cache.Options{
		// cxloop never reads managedFields (it writes with merge patches,
		// which leave them out); on a journey of 140 touchpoints with its
		// status they are a third of the object in memory.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&cxv1.CustomerJourney{}: {Transform: func(o any) (any, error) {
				o, err := cache.TransformStripManagedFields()(o)
				if cj, ok := o.(*cxv1.CustomerJourney); ok {
					compactJourney(&cj.Spec)
				}
				return o, err
			}},
			// Only the Secrets their owners opted in for GitHub: a journey
			// cannot make cxloop read any other Secret of its namespace.
			&corev1.Secret{}: {Label: credentialsSecrets},
		},
	}
}

// credentialsSecrets selects the Secrets a journey may name as its GitHub
// credentials (spec.tracker.github.secretRef).
var credentialsSecrets = labels.SelectorFromSet(labels.Set{tracker.CredentialsLabel: tracker.CredentialsLabelValue})

// WatchNamespaces restricts the cache, and so what cxloop reconciles and
// reads, to the namespaces of a comma-separated list (--watch-namespaces);
// an empty list watches every namespace. The manager's RBAC must allow the
// same namespaces: the chart's watchNamespaces installs both.
func WatchNamespaces(o *cache.Options, list string) error {
	var names []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" || slices.Contains(names, n) {
			continue
		}
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", n, strings.Join(errs, "; "))
		}
		names = append(names, n)
	}
	o.DefaultNamespaces = nil
	if len(names) > 0 {
		o.DefaultNamespaces = map[string]cache.Config{}
		for _, n := range names {
			o.DefaultNamespaces[n] = cache.Config{}
		}
	}
	return nil
}

// compactJourney makes a journey's map as small as it can be in memory:
// its lists only as long as they are, its repeated strings shared.
func compactJourney(spec *cxv1.CustomerJourneySpec) {
	// The JSON decoder doubles a list's room as it reads it: 12 touchpoints
	// in a stage take the room of 16.
	spec.Stages = slices.Clone(spec.Stages)
	for i := range spec.Stages {
		spec.Stages[i].Touchpoints = slices.Clone(spec.Stages[i].Touchpoints)
	}
	shareJourneyStrings(spec)
}

// shareJourneyStrings makes the strings that repeat across a journey's
// touchpoints (persona names on every experience, channels, owners, notes,
// pain points' summaries and personas) share one copy: the API server's
// JSON gives each occurrence its own, and the persona names alone repeat
// four times per touchpoint. The cache holds every journey for the
// manager's life; reconcilers get deep copies, so nothing writes to these.
func shareJourneyStrings(spec *cxv1.CustomerJourneySpec) {
	seen := map[string]string{}
	share := func(s *string) {
		if *s == "" {
			return
		}
		if v, ok := seen[*s]; ok {
			*s = v
			return
		}
		seen[*s] = *s
	}
	for i := range spec.Personas {
		share(&spec.Personas[i].Name)
	}
	for si := range spec.Stages {
		for ti := range spec.Stages[si].Touchpoints {
			tp := &spec.Stages[si].Touchpoints[ti]
			ch := string(tp.Channel)
			share(&ch)
			tp.Channel = cxv1.Channel(ch)
			share(&tp.ChannelName)
			share(&tp.Owner)
			for ei := range tp.Experiences {
				share(&tp.Experiences[ei].Persona)
				share(&tp.Experiences[ei].Note)
			}
			for pi := range tp.PainPoints {
				pp := &tp.PainPoints[pi]
				share(&pp.Summary)
				for k := range pp.Personas {
					share(&pp.Personas[k])
				}
			}
		}
	}
}
