package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PhaseType is one of the four phases of the continuous-improvement method.
// +kubebuilder:validation:Enum=Discovery;Improve;Perfection;Personalization
type PhaseType string

const (
	// PhaseDiscovery builds the map and finds its gaps and issues.
	PhaseDiscovery PhaseType = "Discovery"
	// PhaseImprove executes the quick wins: high impact, low effort.
	PhaseImprove PhaseType = "Improve"
	// PhasePerfection executes the long-term improvements.
	PhasePerfection PhaseType = "Perfection"
	// PhasePersonalization makes the journey one-to-one, per persona.
	PhasePersonalization PhaseType = "Personalization"
)

// PhaseState is where a phase stands.
// +kubebuilder:validation:Enum=Pending;Active;Completed;Suspended
type PhaseState string

const (
	// PhasePending waits for the phase named in spec.after to complete.
	PhasePending PhaseState = "Pending"
	// PhaseActive opens and tracks the phase's work.
	PhaseActive PhaseState = "Active"
	// PhaseCompleted met its exit criteria.
	PhaseCompleted PhaseState = "Completed"
	// PhaseSuspended is paused by spec.suspend.
	PhaseSuspended PhaseState = "Suspended"
)

// ItemState is where one piece of a phase's work stands.
// +kubebuilder:validation:Enum=Planned;Open;Closed;Obsolete
type ItemState string

const (
	// ItemPlanned is not opened yet (limits hold it back).
	ItemPlanned ItemState = "Planned"
	// ItemOpen has an open issue.
	ItemOpen ItemState = "Open"
	// ItemClosed has a closed issue.
	ItemClosed ItemState = "Closed"
	// ItemObsolete no longer follows from the map; its issue was closed as not planned.
	ItemObsolete ItemState = "Obsolete"
)

// JourneyReference names a CustomerJourney in the phase's namespace.
type JourneyReference struct {
	// name of the CustomerJourney (its metadata.name).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name,omitempty"`
}

// PhaseSelector chooses the pain points a phase works on.
type PhaseSelector struct {
	// minImpact is the lowest impact (1-5) a pain point needs; for Improve
	// it defaults to 4.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	MinImpact int32 `json:"minImpact,omitempty"`

	// maxEffort is the highest effort (1-5) a pain point may take; for
	// Improve it defaults to 2.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	MaxEffort int32 `json:"maxEffort,omitempty"`

	// personas narrows the work to pain points of these personas (their
	// names in the journey's spec.personas); empty means all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=12
	// +kubebuilder:validation:items:MaxLength=40
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Personas []string `json:"personas,omitempty"`
}

// PhaseLimits pace the opening of issues so that product owners are not flooded.
type PhaseLimits struct {
	// maxOpenIssues is the most issues of this phase open at once; the rest
	// stay Planned and open as earlier ones close.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	MaxOpenIssues int32 `json:"maxOpenIssues,omitempty"`

	// maxIssuesPerHour is the most issues of this phase opened in any hour.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxIssuesPerHour int32 `json:"maxIssuesPerHour,omitempty"`
}

// ExitCriteria say when a phase is complete.
type ExitCriteria struct {
	// closedPercent is the share of the phase's items (0-100) whose issues
	// must be closed; 100 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	ClosedPercent *int32 `json:"closedPercent,omitempty"`

	// minHealthScore is the journey health score (0-100) the phase must reach.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MinHealthScore *int32 `json:"minHealthScore,omitempty"`

	// verifiedPercent is the share of the phase's items (0-100) whose
	// outcome must be verified as Improved by their measure after the
	// settle window; not required when unset. Items without a measure
	// cannot be verified.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	VerifiedPercent *int32 `json:"verifiedPercent,omitempty"`
}

// ImprovementPhaseSpec declares one phase of the method for one journey.
// +kubebuilder:validation:XValidation:rule="!has(self.after) || size(self.after) > 0",message="after must name an ImprovementPhase",fieldPath=".after"
type ImprovementPhaseSpec struct {
	// journeyRef names the CustomerJourney this phase improves.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="journeyRef is immutable"
	JourneyRef JourneyReference `json:"journeyRef,omitzero"`

	// type is the phase of the method: Discovery (find the map's gaps),
	// Improve (the quick wins), Perfection (the long-term improvements) or
	// Personalization (one-to-one, per persona).
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="type is immutable"
	Type PhaseType `json:"type,omitempty"`

	// after names the ImprovementPhase (its metadata.name, same namespace)
	// that must be Completed before this one starts. A phase without it
	// starts at once.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	After string `json:"after,omitempty"`

	// owner is the person or team accountable for the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:MinLength=1
	Owner string `json:"owner,omitempty"`

	// budget is what the phase may spend, in free text (for example "20 person-days").
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:MinLength=1
	Budget string `json:"budget,omitempty"`

	// The deadline's rule checks the day against the month by arithmetic:
	// timestamp() fails on 30 February with an evaluation error that hides
	// the message.

	// deadline is the date (YYYY-MM-DD) the phase should be complete by.
	// +optional
	// +kubebuilder:validation:MaxLength=10
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$') && int(self.substring(8, 10)) <= (self.substring(5, 7) == '02' ? (int(self.substring(0, 4)) % 4 == 0 && (int(self.substring(0, 4)) % 100 != 0 || int(self.substring(0, 4)) % 400 == 0) ? 29 : 28) : (self.substring(5, 7) in ['04', '06', '09', '11'] ? 30 : 31))",message="deadline must be a calendar date written YYYY-MM-DD, such as 2026-12-31"
	// +kubebuilder:validation:MinLength=10
	Deadline string `json:"deadline,omitempty"`

	// selector chooses the pain points the phase works on.
	// +optional
	Selector *PhaseSelector `json:"selector,omitempty"`

	// limits pace the opening of issues.
	// +optional
	Limits *PhaseLimits `json:"limits,omitempty"`

	// exitCriteria say when the phase is complete.
	// +optional
	ExitCriteria *ExitCriteria `json:"exitCriteria,omitempty"`

	// syncInterval is how often the phase's issues are polled on GitHub, a
	// duration from 1s to 24h such as "5m" or "1h30m"; webhooks bring changes
	// sooner. It also caps how long a phase waits before retrying after a
	// GitHub failure. Defaults to 5m.
	// +optional
	// +default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="syncInterval must be a duration from 1s to 24h written like 30s, 5m or 1h30m"
	SyncInterval *metav1.Duration `json:"syncInterval,omitempty"`

	// settleWindow is how long after an issue closes its measure is read
	// again to judge the outcome, and how long before the issue was opened
	// the baseline is taken over; a duration from 1m to 2160h (90 days)
	// such as "168h". Defaults to 168h (7 days).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('2160h')",message="settleWindow must be a duration from 1m to 2160h written like 168h or 72h30m"
	SettleWindow *metav1.Duration `json:"settleWindow,omitempty"`

	// suspend pauses opening and tracking issues.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
}

// ItemSource says where in the journey map an item comes from.
type ItemSource struct {
	// kind is Gap, PainPoint or Personalization.
	// +required
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind,omitempty"`
	// stage of the journey.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Stage string `json:"stage,omitempty"`
	// touchpoint in the stage.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Touchpoint string `json:"touchpoint,omitempty"`
	// painPoint id.
	// +optional
	// +kubebuilder:validation:MinLength=1
	PainPoint string `json:"painPoint,omitempty"`
	// persona concerned.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Persona string `json:"persona,omitempty"`
}

// PhaseItem is one piece of the phase's work and its GitHub issue.
type PhaseItem struct {
	// key identifies the item stably; the same pain point always yields the same key.
	// +required
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key,omitempty"`
	// title of the item and of its issue.
	// +required
	// +kubebuilder:validation:MinLength=1
	Title string `json:"title,omitempty"`
	// source says where in the map the item comes from.
	// +required
	Source ItemSource `json:"source,omitzero"`
	// state is Planned, Open, Closed or Obsolete.
	// +required
	State ItemState `json:"state,omitempty"`
	// issue is the GitHub issue number, once opened.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Issue int64 `json:"issue,omitempty"`
	// url of the GitHub issue.
	// +optional
	// +kubebuilder:validation:MinLength=1
	URL string `json:"url,omitempty"`
	// attemptedAt is when cxloop last asked GitHub to open the issue. Until
	// the issue shows up, cxloop waits a grace period before asking again, so
	// that a create still in flight when cxloop restarted is adopted, not repeated.
	// +optional
	AttemptedAt *metav1.Time `json:"attemptedAt,omitempty"`
	// openedAt is when the issue was opened.
	// +optional
	OpenedAt *metav1.Time `json:"openedAt,omitempty"`
	// closedAt is when the issue was closed.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`
	// message reports something a person should know (for example, that the
	// issue was deleted or transferred on GitHub).
	// +optional
	// +kubebuilder:validation:MinLength=1
	Message string `json:"message,omitempty"`
	// outcome is whether the customer felt the difference once the issue
	// closed, judged by the measure of its pain point or touchpoint.
	// +optional
	Outcome *ItemOutcome `json:"outcome,omitempty"`
	// board records the issue's item on the journey's project
	// (spec.tracker.github.project of the journey).
	// +optional
	Board ItemBoard `json:"board,omitzero"`
	// subIssueOf is the phase's parent issue this issue was made a
	// sub-issue of (spec.tracker.github.parentIssues).
	// +optional
	// +kubebuilder:validation:Minimum=1
	SubIssueOf int64 `json:"subIssueOf,omitempty"`
	// issueType is the issue type cxloop gave the issue
	// (spec.tracker.github.issueTypes).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	IssueType string `json:"issueType,omitempty"`
}

// BoardItemState says whether an issue is on the project.
// +kubebuilder:validation:Enum=OnBoard;Removed
type BoardItemState string

const (
	// BoardItemOnBoard: cxloop added the issue to the project and keeps its fields.
	BoardItemOnBoard BoardItemState = "OnBoard"
	// BoardItemRemoved: a person removed the issue from the project; cxloop
	// does not add it again.
	BoardItemRemoved BoardItemState = "Removed"
)

// ItemBoard is an issue's item on the journey's project.
type ItemBoard struct {
	// state is OnBoard or Removed.
	// +required
	State BoardItemState `json:"state,omitempty"`
	// itemID is the project item's ID.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ItemID int64 `json:"itemID,omitempty"`
	// values is a digest of the values cxloop last set in its fields, so
	// that an unchanged item costs no request.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Values string `json:"values,omitempty"`
}

// PhaseProgress counts the phase's items.
// +kubebuilder:validation:MinProperties=1
type PhaseProgress struct {
	// total items, Obsolete ones excluded.
	// +optional
	Total int32 `json:"total"`
	// planned items not opened yet.
	// +optional
	Planned int32 `json:"planned"`
	// open items.
	// +optional
	Open int32 `json:"open"`
	// closed items.
	// +optional
	Closed int32 `json:"closed"`
	// verified items: closed, with an outcome verified as Improved.
	// +optional
	Verified int32 `json:"verified"`
	// percent of the items closed, 0-100.
	// +optional
	Percent int32 `json:"percent"`
	// summary reads "closed/total (percent%)".
	// +optional
	Summary string `json:"summary"`
}

// Schedule says whether a phase will make its deadline.
// +kubebuilder:validation:Enum=NotStarted;OnTrack;AtRisk;Late;Completed;NotEnoughData;NoDeadline
type Schedule string

const (
	// ScheduleNotStarted: the phase has not started.
	ScheduleNotStarted Schedule = "NotStarted"
	// ScheduleOnTrack: the projected completion is on or before the deadline.
	ScheduleOnTrack Schedule = "OnTrack"
	// ScheduleAtRisk: the projected completion is after the deadline.
	ScheduleAtRisk Schedule = "AtRisk"
	// ScheduleLate: the deadline's day has gone by and the phase is not complete.
	ScheduleLate Schedule = "Late"
	// ScheduleCompleted: the phase is complete.
	ScheduleCompleted Schedule = "Completed"
	// ScheduleNotEnoughData: too little has closed yet to project a date.
	ScheduleNotEnoughData Schedule = "NotEnoughData"
	// ScheduleNoDeadline: the phase has no deadline to hold a projection against.
	ScheduleNoDeadline Schedule = "NoDeadline"
)

// PhaseForecast is where the phase stands against its deadline.
type PhaseForecast struct {
	// schedule is NotStarted, OnTrack, AtRisk (the projected completion is
	// after the deadline), Late (the deadline has passed), Completed,
	// NotEnoughData or NoDeadline.
	// +required
	Schedule Schedule `json:"schedule,omitempty"`
	// since is when schedule took its value; for Late, the end of the
	// deadline's day.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// projectedCompletion is the date (YYYY-MM-DD, UTC) the phase is
	// expected to complete at its recent closing rate: the items closed in
	// the last 28 days (or since it started) divided by that time, applied
	// to the items remaining. Unset while there is not enough data (fewer
	// than 2 closes, or under 7 days of work). For a completed phase, the
	// day it completed.
	// +optional
	// +kubebuilder:validation:MaxLength=10
	// +kubebuilder:validation:MinLength=1
	ProjectedCompletion string `json:"projectedCompletion,omitempty"`
	// closedPerWeek is the recent closing rate, in items a week, for example "1.5".
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:MinLength=1
	ClosedPerWeek string `json:"closedPerWeek,omitempty"`
	// message says how the forecast was made, for a person.
	// +optional
	// +kubebuilder:validation:MaxLength=400
	// +kubebuilder:validation:MinLength=1
	Message string `json:"message,omitempty"`
}

// ImprovementPhaseStatus is what cxloop observed of the phase.
// +kubebuilder:validation:MinProperties=1
type ImprovementPhaseStatus struct {
	// conditions are the phase's observed state: Ready, Reconciling and
	// Stalled (kstatus), TrackerReady, RateLimited, MeasuresReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// state is Pending, Active, Completed or Suspended.
	// +optional
	State PhaseState `json:"state,omitempty"`
	// items are the phase's work, each with its issue.
	// +optional
	// +listType=atomic
	Items []PhaseItem `json:"items,omitempty"`
	// progress counts the items.
	// +optional
	Progress PhaseProgress `json:"progress,omitzero"`
	// startedAt is when the phase became Active.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// completedAt is when the phase met its exit criteria.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// lastSyncTime is when the phase's issues were last read from GitHub.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// forecast is the phase's projected completion and whether it makes
	// its deadline; its burn-up is derived from the items' openedAt and
	// closedAt.
	// +optional
	Forecast *PhaseForecast `json:"forecast,omitempty"`
	// parent is the phase's parent issue, whose sub-issues are the phase's
	// issues (spec.tracker.github.parentIssues of the journey).
	// +optional
	Parent *PhaseParent `json:"parent,omitempty"`
	// board is the GitHub Project that status.items[].board and
	// status.parent.board are of. When the journey names another project
	// (spec.tracker.github.project), they are cleared and the phase's
	// issues are added to the new one; the old project keeps its items.
	// +optional
	Board GitHubProject `json:"board,omitzero"`
}

// ParentIssueState is what became of a phase's parent issue.
// +kubebuilder:validation:Enum=Pending;Open;Closed;Lost
type ParentIssueState string

const (
	// ParentIssuePending: the phase opened work while the journey asked
	// for parent issues, and its parent issue is owed: still to be opened
	// when the write budget gives it a turn. A phase that completes
	// meanwhile still opens it, links its issues and closes it.
	ParentIssuePending ParentIssueState = "Pending"
	// ParentIssueOpen: the parent issue is open, with the phase's issues
	// as its sub-issues.
	ParentIssueOpen ParentIssueState = "Open"
	// ParentIssueClosed: cxloop closed it when the phase completed.
	ParentIssueClosed ParentIssueState = "Closed"
	// ParentIssueLost: deleted or transferred by a person, or GitHub
	// refuses changes to it; cxloop opens no other.
	ParentIssueLost ParentIssueState = "Lost"
)

// PhaseParent is a phase's parent issue on GitHub.
type PhaseParent struct {
	// issue is the parent issue's number (0 while its first attempt may
	// still land).
	// +optional
	// +kubebuilder:validation:Minimum=1
	Issue int64 `json:"issue,omitempty"`
	// url is the parent issue's web address.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`
	// attemptedAt is when cxloop last tried to open the parent issue: an
	// attempt whose answer was lost may still land, and is waited for
	// rather than repeated.
	// +optional
	AttemptedAt *metav1.Time `json:"attemptedAt,omitempty"`
	// blockedBy is the earlier phase's parent issue this one was marked
	// blocked by.
	// +optional
	// +kubebuilder:validation:Minimum=1
	BlockedBy int64 `json:"blockedBy,omitempty"`
	// issueType is the issue type cxloop gave the parent issue.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	IssueType string `json:"issueType,omitempty"`
	// state is Pending (the phase opened work; its parent issue is still to
	// be opened), Open, Closed (cxloop closed it when the phase completed)
	// or Lost (deleted or transferred, or GitHub refuses changes to it:
	// cxloop opens no other and links nothing more).
	// +optional
	State ParentIssueState `json:"state,omitempty"`
	// board is the parent issue's item on the journey's project.
	// +optional
	Board ItemBoard `json:"board,omitzero"`
}

// ImprovementPhase is one phase of the continuous-improvement method for
// one CustomerJourney. cxloop opens GitHub issues for its work (quick wins
// first), tracks them until closed, and completes the phase when its exit
// criteria hold, which starts the phase that names it in spec.after.
// Deleting a phase leaves its GitHub issues as they are.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cxp;phase;phases,categories=cx
// +kubebuilder:validation:XValidation:rule="!has(self.spec.after) || self.spec.after != self.metadata.name",message="spec.after names the phase itself: a phase cannot wait for its own completion",fieldPath=".spec.after"
// +kubebuilder:printcolumn:name="Journey",type=string,JSONPath=`.spec.journeyRef.name`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=`.status.progress.summary`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.status.forecast.schedule`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Owner",type=string,priority=1,JSONPath=`.spec.owner`
// +kubebuilder:printcolumn:name="Deadline",type=string,priority=1,JSONPath=`.spec.deadline`
// +kubebuilder:printcolumn:name="Forecast",type=string,priority=1,JSONPath=`.status.forecast.projectedCompletion`
// +kubebuilder:printcolumn:name="Status",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImprovementPhase struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the phase.
	// +required
	Spec ImprovementPhaseSpec `json:"spec,omitzero"`

	// status is what cxloop observed of the phase.
	// +optional
	Status ImprovementPhaseStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// ImprovementPhaseList is a list of ImprovementPhase.
type ImprovementPhaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImprovementPhase `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImprovementPhase{}, &ImprovementPhaseList{})
}

// Order is the phase's place in the method: Discovery 0, Improve 1,
// Perfection 2, Personalization 3, anything else after them.
func (t PhaseType) Order() int {
	switch t {
	case PhaseDiscovery:
		return 0
	case PhaseImprove:
		return 1
	case PhasePerfection:
		return 2
	case PhasePersonalization:
		return 3
	}
	return 4
}
