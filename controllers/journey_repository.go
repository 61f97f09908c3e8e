package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/tracker"
)

// followRepository records the tracked repository as GitHub knows it: its
// ID, by which webhook deliveries find the journey whatever the
// repository is called, and its name today. When GitHub's name differs
// from spec.tracker.github's (the repository was renamed or transferred),
// cxloop keeps working (GitHub redirects the old name) and says so, so that
// a person updates the spec.
func (r *CustomerJourneyReconciler) followRepository(ctx context.Context, cj *cxv1.CustomerJourney, tr tracker.Tracker, n *news) error {
	repo, err := tr.Repository(ctx)
	if err != nil {
		return err
	}
	if repo.ID <= 0 || repo.FullName == "" {
		return nil // an answer without an identity: nothing to record
	}
	cj.Status.GitHubRepository = &cxv1.GitHubRepositoryStatus{ID: repo.ID, FullName: repo.FullName}
	gh := cj.Spec.Tracker.GitHub
	named := gh.Owner + "/" + gh.Repo
	if strings.EqualFold(repo.FullName, named) {
		conditions.Remove(&cj.Status.Conditions, cxv1.ConditionRepositoryRenamed)
		return nil
	}
	msg := fmt.Sprintf("spec.tracker.github names %s, which GitHub now calls %s (repository %d, renamed or transferred): cxloop follows it by its ID; set spec.tracker.github.owner and repo to the new name",
		named, repo.FullName, repo.ID)
	if !conditionIs(cj.Status.Conditions, cxv1.ConditionRepositoryRenamed, metav1.ConditionTrue, cxv1.ReasonRepositoryRenamed) {
		n.tell(nil, corev1.EventTypeWarning, cxv1.ReasonRepositoryRenamed, "Track", "%s", msg)
	}
	conditions.Set(&cj.Status.Conditions, cj.Generation, cxv1.ConditionRepositoryRenamed, metav1.ConditionTrue, cxv1.ReasonRepositoryRenamed, msg)
	return nil
}
