package controllers

import (
	"k8s.io/utils/clock"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// The phase's planning is internal/plan's; what the reconcilers' other
// files call of it keeps its name here.

const itemKindPainPoint = workitem.KindPainPoint

// progressOf counts the items; Obsolete ones are not part of the work.
func progressOf(items []cxv1.PhaseItem) cxv1.PhaseProgress { return plan.Progress(items) }

// applyIssue records an issue's number, link and state on an item.
func applyIssue(it *cxv1.PhaseItem, is tracker.Issue, clk clock.PassiveClock) {
	plan.ApplyIssue(it, is, clk.Now())
}
