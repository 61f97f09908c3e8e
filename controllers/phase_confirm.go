package controllers

import (
	"context"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// issueConfirmer asks GitHub about one issue by number (*tracker.Client).
type issueConfirmer interface {
	ConfirmIssue(ctx context.Context, number int) (tracker.Issue, bool, error)
}

// confirmMissing asks GitHub about each issue the phase recorded that the
// view of the repository does not show, before mergeItems takes its
// absence for the issue being gone (deleted, transferred, unlabelled) and
// makes the item Obsolete for good. The view may be older than the record:
// a replica paused in the middle of a listing reads, once resumed, an
// answer from before its successor opened the issue and recorded it. Only
// GitHub's word that the issue is gone leaves it missing; what GitHub still
// has is added to issues. A webhook's report of a deletion or transfer
// (vanished) needs no confirmation.
func confirmMissing(ctx context.Context, tr tracker.Tracker, ph *cxv1.ImprovementPhase, pc workitem.Phase, issues map[string]tracker.Issue, vanished map[string]string) error {
	c, ok := tr.(issueConfirmer)
	if !ok {
		return nil
	}
	for _, it := range ph.Status.Items {
		if it.Issue == 0 || it.State == cxv1.ItemObsolete {
			continue
		}
		key := workitem.TrackerKey(pc.Namespace, pc.Journey, it.Key)
		if _, shown := issues[key]; shown || vanished[vanishedKey(key, it.Issue)] != "" {
			continue
		}
		is, found, err := c.ConfirmIssue(ctx, int(it.Issue))
		if err != nil {
			return err
		}
		if found && is.Key == key {
			issues[key] = is
		}
	}
	return nil
}
