// Package v1alpha1 contains the cxloop API: the CustomerJourney (the journey
// map) and the ImprovementPhase (one phase of the continuous-improvement
// method for one journey).
// +kubebuilder:object:generate=true
// +groupName=cx.cxloop.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the cxloop API.
	GroupVersion = schema.GroupVersion{Group: "cx.cxloop.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the cxloop types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the cxloop types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
