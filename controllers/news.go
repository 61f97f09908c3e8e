package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// news is what a reconcile found in its object's status and tells in
// Events: a phase started or completed, an issue gone, a verdict, a map
// scored, a review missed, a repository renamed. It is told once a write
// records it (patchStatusTelling, or an attempt's write before it). A
// reconcile that read a copy older than the last write (the manager's
// cache a moment after it) finds the same news again; its write, guarded
// by the resourceVersion it read, is refused, and it tells nothing.
type news []newsEvent

type newsEvent struct {
	related                         runtime.Object
	eventtype, reason, action, note string
}

// tell keeps an Event for the write that records it.
func (n *news) tell(related runtime.Object, eventtype, reason, action, note string, args ...any) {
	*n = append(*n, newsEvent{related: related, eventtype: eventtype, reason: reason, action: action, note: fmt.Sprintf(note, args...)})
}

// told emits the news, regarding obj, and forgets it (nil: none to tell).
func (n *news) told(rec events.EventRecorder, regarding runtime.Object) {
	if n == nil {
		return
	}
	for _, e := range *n {
		rec.Eventf(regarding, e.related, e.eventtype, e.reason, e.action, "%s", e.note)
	}
	*n = nil
}

// patchStatusTelling writes obj's status as patchStatus does; with news to
// tell, guarded by before's resourceVersion, and tells it once written. A
// Conflict is returned: the caller looks again from the object as it is.
func patchStatusTelling[T client.Object](ctx context.Context, c client.Client, rec events.EventRecorder, before, obj T, n *news) error {
	if len(*n) == 0 {
		return patchStatus(ctx, c, before, obj)
	}
	if err := c.Status().Patch(ctx, obj, statusMergeFromLocked(before)); err != nil {
		if !apierrors.IsConflict(err) {
			logf.FromContext(ctx).Error(err, "writing status")
		}
		return client.IgnoreNotFound(err)
	}
	n.told(rec, obj)
	return nil
}
