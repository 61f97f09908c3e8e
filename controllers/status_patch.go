package controllers

import (
	"context"
	"encoding/json"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// statusMergeFrom is client.MergeFrom for the status subresource: a JSON
// merge patch from before's status to the object's. The API server takes
// nothing but the status from a write to /status, and client.MergeFrom
// marshals and diffs whole objects: at each status write, a journey's map
// of 140 touchpoints, twice, which was a quarter of what the manager
// allocates (make bench -pprof).
func statusMergeFrom(before client.Object) client.Patch {
	return statusPatch{before: before}
}

// statusMergeFromLocked is statusMergeFrom guarded by before's
// resourceVersion: the API server refuses it with 409 Conflict when the
// object has changed since (another reconcile, another leader moved on).
// Attempts are written with it, so that a process resumed after a pause
// never records an attempt over its successor's status.
func statusMergeFromLocked(before client.Object) client.Patch {
	return statusPatch{before: before, lock: before.GetResourceVersion()}
}

type statusPatch struct {
	before client.Object
	lock   string // resourceVersion the patch must apply to ("": any)
}

func (p statusPatch) Type() types.PatchType { return types.MergePatchType }

func (p statusPatch) Data(obj client.Object) ([]byte, error) {
	before, err := json.Marshal(statusDocument{Status: statusOf(p.before)})
	if err != nil {
		return nil, err
	}
	after, err := json.Marshal(statusDocument{Status: statusOf(obj)})
	if err != nil {
		return nil, err
	}
	patch, err := jsonpatch.CreateMergePatch(before, after)
	if err != nil || p.lock == "" {
		return patch, err
	}
	var doc map[string]any
	if err := json.Unmarshal(patch, &doc); err != nil {
		return nil, err
	}
	doc["metadata"] = map[string]any{"resourceVersion": p.lock}
	return json.Marshal(doc)
}

type statusDocument struct {
	Status any `json:"status"`
}

// patchStatus writes obj's status when it differs from before's, as a
// merge patch guarded by before's resourceVersion, and then tells the
// run's news (n; nil: none). A run that read a copy older than the last
// write of the status (the manager's cache lags a moment behind each)
// must neither write over it nor tell again what that write told. A
// Conflict is looked into with a read from the API server (live): if the
// status there is still before's, only the object's metadata or spec moved
// since (a webhook delivery's annotation, an edit), and the write is made
// again, guarded by that version; if the status moved, the Conflict is
// returned, and the caller looks again from the object as it is.
func patchStatus[T client.Object](ctx context.Context, c client.Client, live client.Reader, before, obj T, rec events.EventRecorder, n *news) error {
	if equality.Semantic.DeepEqual(statusOf(before), statusOf(obj)) {
		n.told(rec, obj) // as written: before records it
		return nil
	}
	lock := client.Object(before)
	for tries := 1; ; tries++ {
		err := c.Status().Patch(ctx, obj, statusPatch{before: before, lock: lock.GetResourceVersion()})
		switch {
		case err == nil:
			n.told(rec, obj)
			return nil
		case apierrors.IsNotFound(err):
			return nil
		case !apierrors.IsConflict(err):
			logf.FromContext(ctx).Error(err, "writing status")
			return err
		case tries == maxStatusTries:
			return err
		}
		fresh, _ := before.DeepCopyObject().(client.Object)
		if gerr := live.Get(ctx, client.ObjectKeyFromObject(before), fresh); gerr != nil {
			return client.IgnoreNotFound(gerr)
		}
		if !equality.Semantic.DeepEqual(statusOf(fresh), statusOf(before)) {
			return err // the status moved on without this run: its view is stale
		}
		lock = fresh
	}
}

// lookAgainIfStale turns patchStatus's Conflict (the run read a stale
// copy) into a look again soon, from the object as it is, without an
// error; any other failure is returned as it is.
func lookAgainIfStale(result *ctrl.Result, err error) error {
	if apierrors.IsConflict(err) {
		*result = ctrl.Result{RequeueAfter: supersededRetry}
		return nil
	}
	return err
}

// liveReader is the reader patchStatus looks into a Conflict with: the API
// server's (apiReader), or else c (a test's client, which has no cache).
func liveReader(apiReader client.Reader, c client.Client) client.Reader {
	if apiReader != nil {
		return apiReader
	}
	return c
}

// maxStatusTries bounds the writes of one status whose object keeps
// moving (metadata only) under the run: the run is looked at again after.
const maxStatusTries = 3

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
