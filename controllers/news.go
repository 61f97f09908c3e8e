package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// news is what a reconcile found in its object's status and tells in
// Events: a phase started or completed, an issue gone, a verdict, a map
// scored or invalid, a review missed, a repository renamed. It is told
// once a write records it (patchStatus, or an attempt's write before it).
// A reconcile that read a copy older than the last write (the manager's
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
