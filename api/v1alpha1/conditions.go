package v1alpha1

// Condition types shared by both kinds. They follow the kstatus convention:
// Ready is always present; Reconciling and Stalled are present only while true.
const (
	// ConditionReady says whether the object is fully reconciled and healthy.
	ConditionReady = "Ready"
	// ConditionReconciling is present while the controller is working towards the desired state.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is present while the controller cannot make progress without a change by a person.
	ConditionStalled = "Stalled"
	// ConditionRateLimited is present while GitHub's rate limit holds the work back.
	ConditionRateLimited = "RateLimited"
	// ConditionTrackerReady says whether the GitHub tracker can be reached with the configured credentials.
	ConditionTrackerReady = "TrackerReady"
	// ConditionReviewOverdue is present while the previous review is still open when the next one is due.
	ConditionReviewOverdue = "ReviewOverdue"
	// ConditionStale is present when the map has not changed across several reviews.
	ConditionStale = "Stale"
	// ConditionMeasuresReady says whether the measures of the map could be read from Prometheus.
	ConditionMeasuresReady = "MeasuresReady"
	// ConditionBoardReady says whether the phase's issues are on the journey's
	// project (spec.tracker.github.project) with cxloop's fields; absent
	// without a project. It does not hold back Ready: issues open and are
	// tracked without the board.
	ConditionBoardReady = "BoardReady"
	// ConditionRepositoryRenamed is present while spec.tracker.github names
	// a repository that GitHub now knows under another name (renamed or
	// transferred); cxloop follows it by its ID meanwhile.
	ConditionRepositoryRenamed = "RepositoryRenamed"
)

// Reasons of the conditions above that are not a condition's own name.
const (
	// ReasonRepositoryRenamed: the repository was renamed or transferred on GitHub.
	ReasonRepositoryRenamed = "RepositoryRenamed"
)
