package main

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// readyOnly is the baseline: the least a controller-runtime reconciler can
// do for an object, set its Ready condition, writing the status only when
// it changed. It shows what the framework, the API server and this machine
// allow, in the same run as cxloop.
type readyOnly[T client.Object] struct {
	client.Client
	newObj func() T
	conds  func(T) *[]metav1.Condition
}

func (r *readyOnly[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.newObj()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(T)
	apimeta.SetStatusCondition(r.conds(obj), metav1.Condition{Type: cxv1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: "Reconciled", Message: "seen by the baseline", ObservedGeneration: obj.GetGeneration()})
	if equality.Semantic.DeepEqual(*r.conds(before), *r.conds(obj)) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Status().Patch(ctx, obj, client.MergeFrom(before))
}

// setupBaseline adds the baseline's two controllers, with the same
// controller options as cxloop's.
func setupBaseline(mgr ctrl.Manager, opts controller.Options) error {
	if err := ctrl.NewControllerManagedBy(mgr).For(&cxv1.CustomerJourney{}).Named("baseline-journey").WithOptions(opts).
		Complete(&readyOnly[*cxv1.CustomerJourney]{Client: mgr.GetClient(), newObj: func() *cxv1.CustomerJourney { return &cxv1.CustomerJourney{} },
			conds: func(o *cxv1.CustomerJourney) *[]metav1.Condition { return &o.Status.Conditions }}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).For(&cxv1.ImprovementPhase{}).Named("baseline-phase").WithOptions(opts).
		Complete(&readyOnly[*cxv1.ImprovementPhase]{Client: mgr.GetClient(), newObj: func() *cxv1.ImprovementPhase { return &cxv1.ImprovementPhase{} },
			conds: func(o *cxv1.ImprovementPhase) *[]metav1.Condition { return &o.Status.Conditions }})
}
