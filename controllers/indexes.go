package controllers

import (
	"context"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// journeyRefIndex indexes ImprovementPhases by the journey they improve.
const journeyRefIndex = "spec.journeyRef.name"

// SetupIndexes registers the cache indexes the reconcilers share. Call it
// once per manager, before setting up the reconcilers.
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &cxv1.ImprovementPhase{}, journeyRefIndex, func(o client.Object) []string {
		return []string{o.(*cxv1.ImprovementPhase).Spec.JourneyRef.Name}
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &cxv1.CustomerJourney{}, credentialsSecretIndex, func(o client.Object) []string {
		if t := o.(*cxv1.CustomerJourney).Spec.Tracker; t != nil && t.GitHub != nil && t.GitHub.SecretRef.Name != "" {
			return []string{t.GitHub.SecretRef.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.GetFieldIndexer().IndexField(ctx, &cxv1.CustomerJourney{}, githubRepoIndex, func(o client.Object) []string {
		cj := o.(*cxv1.CustomerJourney)
		t := cj.Spec.Tracker
		if t == nil || t.GitHub == nil {
			return nil
		}
		keys := []string{repoIndexKey(t.GitHub.Owner, t.GitHub.Repo)}
		if r := cj.Status.GitHubRepository; r != nil && r.ID > 0 {
			keys = append(keys, repoIDIndexKey(r.ID))
		}
		return keys
	})
}

// credentialsSecretIndex indexes CustomerJourneys by the Secret that holds
// their GitHub credentials, so that a Secret's creation or rotation wakes
// the journeys naming it.
const credentialsSecretIndex = "spec.tracker.github.secretRef.name"

// journeysOfSecret lists the journeys in the Secret's namespace that name
// it as their credentials: the cache's own objects, which callers only
// read (a namespace's journeys often share one Secret, and a copy of each
// map per Secret event would cost tens of kilobytes a journey).
func journeysOfSecret(ctx context.Context, c client.Reader, o client.Object) []cxv1.CustomerJourney {
	var list cxv1.CustomerJourneyList
	if err := c.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{credentialsSecretIndex: o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	return list.Items
}

// githubRepoIndex indexes CustomerJourneys by the GitHub repository they are
// tracked in, so that a webhook delivery finds its journeys without copying
// every journey of the cluster out of the cache.
const githubRepoIndex = "spec.tracker.github.repository"

// repoIndexKey is owner/repo as GitHub compares them: without regard to case.
func repoIndexKey(owner, repo string) string {
	return strings.ToLower(owner + "/" + repo)
}

// repoIDIndexKey is the index key of GitHub's repository ID, which a
// repository keeps through renames and transfers (no name holds a '#').
func repoIDIndexKey(id int64) string {
	return "#" + strconv.FormatInt(id, 10)
}

// phasesOf lists the ImprovementPhases of a journey.
func phasesOf(ctx context.Context, c client.Reader, namespace, journey string) ([]cxv1.ImprovementPhase, error) {
	var list cxv1.ImprovementPhaseList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{journeyRefIndex: journey}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// journeyOfPhase maps a phase event to its journey.
func journeyOfPhase(_ context.Context, o client.Object) []reconcile.Request {
	p := o.(*cxv1.ImprovementPhase)
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: p.Namespace, Name: p.Spec.JourneyRef.Name}}}
}
