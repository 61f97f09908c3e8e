package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/cxloop/cxloop/internal/redact"
)

// redactingRecorder hides the user info of URLs in Events' notes, as
// conditions.Set does in conditions: an Event is read by whoever may read
// the namespace.
type redactingRecorder struct{ events.EventRecorder }

func (r redactingRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, "%s", redact.Text(fmt.Sprintf(note, args...)))
}
