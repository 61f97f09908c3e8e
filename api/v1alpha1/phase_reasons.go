package v1alpha1

// Reasons of an ImprovementPhase's conditions and Events.
// docs/troubleshooting.md explains each.
const (
	// ReasonSuspended: Ready=False; spec.suspend is true, no issues are opened or tracked.
	ReasonSuspended = "Suspended"
	// ReasonJourneyNotFound: Reconciling; the journey named in spec.journeyRef does not exist (yet).
	ReasonJourneyNotFound = "JourneyNotFound"
	// ReasonJourneyInvalid: Stalled; the journey's map breaks a rule.
	ReasonJourneyInvalid = "JourneyInvalid"
	// ReasonWaitingForPhase: Ready; the phase waits for the phase named in spec.after to complete.
	ReasonWaitingForPhase = "WaitingForPhase"
	// ReasonDependencyCycle: Stalled; spec.after leads back to the phase itself.
	ReasonDependencyCycle = "DependencyCycle"
	// ReasonInvalidAfter: Stalled; spec.after names a phase of another journey.
	ReasonInvalidAfter = "InvalidAfter"
	// ReasonPhaseStarted: Event; the phase became Active.
	ReasonPhaseStarted = "PhaseStarted"
	// ReasonPhaseCompleted: Ready and Event; the phase's exit criteria held.
	ReasonPhaseCompleted = "PhaseCompleted"
	// ReasonTracking: Ready; the phase is Active and its issues are tracked.
	ReasonTracking = "Tracking"
	// ReasonIssueOpened: Event; an issue of the phase's work was opened.
	ReasonIssueOpened = "IssueOpened"
	// ReasonIssueObsolete: Event; an issue whose work no longer follows from the map was closed as not planned.
	ReasonIssueObsolete = "IssueObsolete"
	// ReasonIssueMissing: Event; an issue of the phase was not found on GitHub any more.
	ReasonIssueMissing = "IssueMissing"
	// ReasonIssueReopened: Event; an issue of work the map asks for again was reopened.
	ReasonIssueReopened = "IssueReopened"
	// ReasonWriteBudget: RateLimited; planned items wait for the write budget of the GitHub token.
	ReasonWriteBudget = "WriteBudget"
	// ReasonOutcomeVerified: Event; a closed item's measure moved the right way.
	ReasonOutcomeVerified = "OutcomeVerified"
	// ReasonOutcomeWorse: Event; a closed item's measure moved the wrong way.
	ReasonOutcomeWorse = "OutcomeWorse"
	// ReasonOutcomeNoData: Event; a closed item's measure had no data to judge by.
	ReasonOutcomeNoData = "OutcomeNoData"
	// ReasonOutcomesRead: MeasuresReady; the measures of closed items could be read.
	ReasonOutcomesRead = "OutcomesRead"
)

// Reasons of the GitHub tracker's conditions, on both kinds.
const (
	// ReasonConnected: TrackerReady; GitHub answers with the configured credentials.
	ReasonConnected = "Connected"
	// ReasonSecretNotFound: TrackerReady; the journey's credentials Secret is missing.
	// It heals on its own when the Secret appears (cxloop watches them).
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretRefused: TrackerReady; the Secret may not be used as GitHub
	// credentials (no opt-in label, a service-account token).
	ReasonSecretRefused = "SecretRefused"
	// ReasonHostNotAllowed: TrackerReady; spec.tracker.github.apiURL names a
	// host the credentials may not be sent to.
	ReasonHostNotAllowed = "HostNotAllowed"
)
