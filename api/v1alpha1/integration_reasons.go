package v1alpha1

// Reasons of GitHub failures (internal/tracker: tracker.Reason of an error),
// on TrackerReady and in Events.
const (
	ReasonRateLimited          = "RateLimited"
	ReasonBadCredentials       = "BadCredentials"
	ReasonForbidden            = "Forbidden"
	ReasonRepositoryNotFound   = "RepositoryNotFound"
	ReasonIssueNotFound        = "IssueNotFound"
	ReasonInstallationNotFound = "InstallationNotFound"
	ReasonIssuesDisabled       = "IssuesDisabled"
	ReasonIssueDeleted         = "IssueDeleted"
	ReasonValidationFailed     = "ValidationFailed"
	ReasonLabelNotApplied      = "LabelNotApplied"
	ReasonServerError          = "ServerError"
	ReasonUnexpectedStatus     = "UnexpectedStatus"
	ReasonInvalidCredentials   = "InvalidCredentials"
	ReasonInvalidRequest       = "InvalidRequest"
	ReasonNetworkError         = "NetworkError"
	ReasonTimeout              = "Timeout"
	ReasonCanceled             = "Canceled"
	ReasonInternalError        = "InternalError"
)

// Reasons of the product owner's board (internal/tracker's board client).
const (
	// ReasonPermissionMissing: GitHub answered 403: the credentials lack a
	// permission; PermissionError names it.
	ReasonPermissionMissing = "PermissionMissing"
	// ReasonProjectNotFound: no organisation or user project has the
	// owner and number, or the credentials cannot see it.
	ReasonProjectNotFound = "ProjectNotFound"
	// ReasonBoardSynced: BoardReady=True; every issue of the phase is on the
	// project with cxloop's field values (or was removed by a person).
	ReasonBoardSynced = "BoardSynced"
	// ReasonBoardItemRemoved: Event; a person removed an issue's item from the
	// project, and cxloop leaves it removed.
	ReasonBoardItemRemoved = "BoardItemRemoved"
	// ReasonSubIssueLeft: Event; a person gave one of the phase's issues
	// another parent issue, and cxloop leaves it there.
	ReasonSubIssueLeft = "SubIssueLeft"
	// ReasonParentIssueLost: Event; the phase's parent issue was deleted or
	// transferred, or GitHub refuses changes to it.
	ReasonParentIssueLost = "ParentIssueLost"
)

// Reasons of the MeasuresReady condition (internal/metricsource), one per
// kind of failure to read a measure.
const (
	ReasonNoData                  = "NoData"
	ReasonMultipleSeries          = "MultipleSeries"
	ReasonPrometheusUnavailable   = "PrometheusUnavailable"
	ReasonQueryTimeout            = "QueryTimeout"
	ReasonPrometheusUnauthorized  = "PrometheusUnauthorized"
	ReasonBadQuery                = "BadQuery"
	ReasonPrometheusNotConfigured = "PrometheusNotConfigured"
)
