package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Channel is the medium through which a persona meets a touchpoint.
// +kubebuilder:validation:Enum=web;mobile-app;email;phone;chat;social;store;print;tv;radio;event;in-person;partner;signage;mail;self-service;other
type Channel string

// Persona is an archetype of the customers who take the journey.
type Persona struct {
	// name identifies the persona in experiences, pain points and phase
	// selectors, and becomes a GitHub label. Lower case, digits and dashes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// description says who this persona is, in a sentence or two.
	// +optional
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:MinLength=1
	Description string `json:"description,omitempty"`

	// goals are what this persona wants to achieve on the journey; the top
	// tasks of the journey serve them.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=200
	Goals []string `json:"goals,omitempty"`
}

// Stage is one step of the journey, in order (for example orientation,
// booking, arrival, the visit, after the visit).
type Stage struct {
	// name identifies the stage, unique in the journey. Lower case, digits and dashes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// description says what the customer does in this stage.
	// +optional
	// +kubebuilder:validation:MaxLength=500
	// +kubebuilder:validation:MinLength=1
	Description string `json:"description,omitempty"`

	// touchpoints are the moments in this stage where the customer meets the
	// organisation, on any channel. A stage has at least one.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=40
	Touchpoints []Touchpoint `json:"touchpoints,omitempty"`
}

// Touchpoint is a moment where a persona meets the organisation.
// +kubebuilder:validation:XValidation:rule="self.channel != 'other' || has(self.channelName)",message="channelName is required when channel is other",fieldPath=".channelName"
// +kubebuilder:validation:XValidation:rule="!has(self.channelName) || self.channel == 'other'",message="channelName is only used when channel is other",fieldPath=".channelName"
type Touchpoint struct {
	// name identifies the touchpoint, unique in its stage. Lower case, digits and dashes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=60
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// channel is the medium: web, mobile-app, email, phone, chat, social,
	// store, print, tv, radio, event, in-person, partner, signage, mail,
	// self-service, or other (then name it in channelName).
	// +required
	Channel Channel `json:"channel,omitempty"`

	// channelName names a channel that is not in the list, when channel is other.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	ChannelName string `json:"channelName,omitempty"`

	// owner is the department accountable for this touchpoint (for example
	// "Visitor services"). A touchpoint without an owner is a gap in the map.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:MinLength=1
	Owner string `json:"owner,omitempty"`

	// topTask marks a touchpoint that serves one of the few tasks most
	// customers come to do. Top tasks weigh more in the health score.
	// +optional
	TopTask *bool `json:"topTask,omitempty"`

	// momentOfTruth marks a touchpoint where the customer forms a lasting
	// opinion. Moments of truth weigh most in the health score, and every
	// stage should have one.
	// +optional
	MomentOfTruth *bool `json:"momentOfTruth,omitempty"`

	// personalize marks a touchpoint to be tailored one-to-one for each
	// persona in the Personalization phase.
	// +optional
	Personalize *bool `json:"personalize,omitempty"`

	// experiences record how each persona feels at this touchpoint today,
	// one entry per persona.
	// +optional
	// +listType=map
	// +listMapKey=persona
	// +kubebuilder:validation:MaxItems=12
	Experiences []Experience `json:"experiences,omitempty"`

	// painPoints are the problems found at this touchpoint.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=8
	PainPoints []PainPoint `json:"painPoints,omitempty"`

	// measures say how the experience at this touchpoint is measured, read
	// from Prometheus; see docs/measures.md.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=4
	Measures []Measure `json:"measures,omitempty"`
}

// Experience is how one persona feels at one touchpoint.
type Experience struct {
	// persona is the name of a persona declared in spec.personas.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	Persona string `json:"persona,omitempty"`

	// score is how the persona feels here today, from -2 (very negative)
	// through 0 (neutral) to +2 (very positive).
	// +required
	// +kubebuilder:validation:Minimum=-2
	// +kubebuilder:validation:Maximum=2
	Score *int32 `json:"score,omitempty"`

	// target is the feeling the redesigned journey aims for, from -2 to +2.
	// The method designs the to-be journey first ("reverse thinking"); the
	// distance from score to target lowers the health score.
	// +optional
	// +kubebuilder:validation:Minimum=-2
	// +kubebuilder:validation:Maximum=2
	Target *int32 `json:"target,omitempty"`

	// note says why the persona feels this way, in the customer's words.
	// +optional
	// +kubebuilder:validation:MaxLength=280
	// +kubebuilder:validation:MinLength=1
	Note string `json:"note,omitempty"`
}

// PainPoint is a problem found at a touchpoint.
type PainPoint struct {
	// id identifies the pain point, unique in the journey; issues opened for
	// it are keyed by it, so keep it when you edit the summary.
	// Lower case, digits and dashes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id,omitempty"`

	// summary says what goes wrong, in a line.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	Summary string `json:"summary,omitempty"`

	// personas are the personas who suffer it; empty means all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=40
	Personas []string `json:"personas,omitempty"`

	// impact is how much fixing it would improve the experience, from 1 (little)
	// to 5 (a lot). Unset while it is still to be sized (a gap of the map).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Impact int32 `json:"impact,omitempty"`

	// effort is how much work fixing it takes, from 1 (little) to 5 (a lot).
	// Unset while it is still to be sized (a gap of the map).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Effort int32 `json:"effort,omitempty"`

	// personalize marks a pain point best solved one-to-one, per persona, in
	// the Personalization phase.
	// +optional
	Personalize *bool `json:"personalize,omitempty"`

	// measures say how fixing this pain point shows in the experience; they
	// judge the outcome of its work before the touchpoint's measures do.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=2
	Measures []Measure `json:"measures,omitempty"`
}

// ReviewSpec is the cadence on which the journey map is reviewed, with the
// semantics of a Kubernetes CronJob.
type ReviewSpec struct {
	// schedule is a cron expression ("0 9 * * 1") or a descriptor: @weekly,
	// @monthly, @quarterly, @yearly, @every <duration>.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="!self.contains('TZ=')",message="schedule must not carry TZ= or CRON_TZ=: name the time zone in spec.review.timeZone"
	// +kubebuilder:validation:XValidation:rule="self.contains('TZ=') || self.startsWith('@every ') || self.matches('^@(yearly|annually|quarterly|monthly|weekly|daily|midnight|hourly)$') || self.matches('^ *[0-9A-Za-z*?/,-]+( +[0-9A-Za-z*?/,-]+){4} *$')",message="schedule must be five cron fields (minute hour day-of-month month day-of-week) such as \"0 9 * * 1\", or one of @yearly, @quarterly, @monthly, @weekly, @daily, @hourly, @every <duration>"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('@every ') || (self.substring(7).matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') && duration(self.substring(7)) >= duration('1m'))",message="schedule @every takes a duration of at least 1m, such as @every 168h"
	Schedule string `json:"schedule,omitempty"`

	// timeZone is the IANA time zone of the schedule (for example
	// "Europe/Amsterdam"); UTC when unset.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^([A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*)?$`
	// +kubebuilder:validation:XValidation:rule="self != 'Local'",message="timeZone must name an IANA time zone such as Europe/Amsterdam: Local would be the zone of whichever node runs cxloop"
	TimeZone *string `json:"timeZone,omitempty"`

	// startingDeadlineSeconds is how late a review may still be opened after
	// its scheduled time (after downtime, say); a later one is recorded as
	// missed. Unset means no deadline.
	// +optional
	// +kubebuilder:validation:Minimum=0
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`

	// suspend stops opening new reviews; reviews already open are kept.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
}

// TrackerSpec says where the work of the journey is tracked.
type TrackerSpec struct {
	// github tracks the work as GitHub issues.
	// +required
	GitHub *GitHubTracker `json:"github"`
}

// SecretReference names a Secret in the journey's namespace.
type SecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name,omitempty"`
}

// GitHubTracker tracks the journey's work as issues in one GitHub repository.
type GitHubTracker struct {
	// owner is the user or organisation that owns the repository.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	Owner string `json:"owner,omitempty"`

	// repo is the repository's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._-]+$`
	Repo string `json:"repo,omitempty"`

	// apiURL is the REST API base URL of a GitHub Enterprise Server (for
	// example https://github.example.com/api/v3/); api.github.com when unset.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="apiURL must be an http(s) URL with a host, such as https://github.example.com/api/v3/"
	// +kubebuilder:validation:MinLength=1
	APIURL string `json:"apiURL,omitempty"`

	// labels are added to every issue cxloop opens, besides its own labels;
	// 1 to 50 characters each, without commas.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=50
	// +kubebuilder:validation:items:Pattern=`^[^,]+$`
	Labels []string `json:"labels,omitempty"`

	// assignees are the GitHub users every issue is assigned to, by login
	// (without the @ of a mention).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=39
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	Assignees []string `json:"assignees,omitempty"`

	// secretRef names the Secret with the credentials: either key "token"
	// (a personal access or fine-grained token), or keys "appID",
	// "installationID" and "privateKey" (a GitHub App).
	// +required
	SecretRef SecretReference `json:"secretRef,omitzero"`

	// dashboard opts in to one issue per journey, edited in place, that shows
	// leadership the personas' feelings, the phases and the oldest quick wins.
	// +optional
	Dashboard *bool `json:"dashboard,omitempty"`

	// project is the product owner's board: an existing GitHub Project (v2)
	// that cxloop adds every issue it opens to, keeping its own fields there
	// (Phase, Stage, Persona, Channel, Department, Impact, Effort, Quick win,
	// Outcome), created when missing and never renamed. The team's own
	// fields, status and ordering stay theirs; an item a person removes
	// stays removed. The credentials need access to projects: a classic
	// token the "project" scope, a fine-grained token or an App the
	// organisation's Projects read and write permission.
	// +optional
	Project GitHubProject `json:"project,omitzero"`

	// parentIssues opts in to one parent issue per phase, for example
	// "Improve: quick wins of nature-park-visit", whose sub-issues are the
	// phase's issues, so that GitHub shows the phase's progress on it. A
	// phase waiting for another (spec.after) has its parent issue blocked
	// by the earlier phase's; a phase's parent is closed when it
	// completes. The dashboard issue links the parents.
	// +optional
	ParentIssues *bool `json:"parentIssues,omitempty"`

	// issueTypes gives cxloop's issues the issue types the repository's
	// organisation defines (Settings → Planning → Issue types), by phase.
	// A type the organisation does not define is left out, and labels are
	// kept either way: repositories without types still sort by labels.
	// The credentials need to read the organisation's issue types.
	// +optional
	IssueTypes IssueTypeMapping `json:"issueTypes,omitzero"`
}

// IssueTypeMapping names the issue type of each kind of issue cxloop opens,
// for example discovery: Task, improve: Feature.
// +kubebuilder:validation:MinProperties=1
type IssueTypeMapping struct {
	// discovery is the type of the Discovery phase's gaps.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Discovery string `json:"discovery,omitempty"`
	// improve is the type of the quick wins.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Improve string `json:"improve,omitempty"`
	// perfection is the type of the long-term improvements.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Perfection string `json:"perfection,omitempty"`
	// personalization is the type of the per-persona work.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Personalization string `json:"personalization,omitempty"`
	// parent is the type of the phases' parent issues (spec.tracker.github.parentIssues).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Parent string `json:"parent,omitempty"`
}

// GitHubProject names a GitHub Project (v2) of an organisation or a user.
type GitHubProject struct {
	// owner is the organisation or user the project belongs to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	Owner string `json:"owner,omitempty"`

	// number is the project's number, as in its URL
	// (https://github.com/orgs/<owner>/projects/<number>).
	// +required
	// +kubebuilder:validation:Minimum=1
	Number int32 `json:"number,omitempty"`
}

// CustomerJourneySpec is the journey map.
// +kubebuilder:validation:XValidation:rule="self.stages.all(s, s.touchpoints.all(t, !has(t.experiences) || sets.contains(self.personas.map(p, p.name), t.experiences.map(e, e.persona))))",message="every spec.stages[].touchpoints[].experiences[].persona must be declared in spec.personas",fieldPath=".stages"
// +kubebuilder:validation:XValidation:rule="self.stages.all(s, s.touchpoints.all(t, !has(t.painPoints) || t.painPoints.all(pp, !has(pp.personas) || sets.contains(self.personas.map(p, p.name), pp.personas))))",message="every spec.stages[].touchpoints[].painPoints[].personas[] must be declared in spec.personas",fieldPath=".stages"
// +kubebuilder:validation:XValidation:rule="self.stages.map(s, s.touchpoints.map(t, (has(t.measures) ? size(t.measures) : 0) + (has(t.painPoints) ? t.painPoints.map(pp, has(pp.measures) ? size(pp.measures) : 0).sum() : 0)).sum()).sum() <= 500",message="the map declares more than 500 measures (spec.stages[].touchpoints[].measures and their painPoints[].measures together), which is all status.measures can hold: measure fewer touchpoints, or split the journey",fieldPath=".stages"
type CustomerJourneySpec struct {
	// owner is the team accountable for the journey.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=80
	Owner string `json:"owner,omitempty"`

	// description says which journey this is: who, from where to where.
	// +optional
	// +kubebuilder:validation:MaxLength=1000
	// +kubebuilder:validation:MinLength=1
	Description string `json:"description,omitempty"`

	// personas are the customer archetypes who take the journey. At least one.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=12
	Personas []Persona `json:"personas,omitempty"`

	// Atomic, not a map keyed by name: the API server tracks the owner of
	// every field of a keyed list in managedFields, which for 140
	// touchpoints was 45% of the object and was decoded, compared and
	// encoded again on every write, status included (issue 18,
	// BenchmarkJourneyWrites). The lists inside keep their keys, so that
	// admission still refuses two touchpoints of a stage with one name.

	// stages are the steps of the journey, in order. At least one, each
	// with its own name. The stages are one value to server-side apply: one
	// field manager owns the whole map, and an apply replaces it whole.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=12
	// +kubebuilder:validation:XValidation:rule="self.all(s, self.exists_one(o, o.name == s.name))",message="every spec.stages[].name must be unique in the journey"
	Stages []Stage `json:"stages,omitempty"`

	// review is the cadence on which the map is reviewed; without it the map
	// goes stale.
	// +optional
	Review *ReviewSpec `json:"review,omitempty"`

	// tracker is where the work of the journey's phases is tracked.
	// +optional
	Tracker *TrackerSpec `json:"tracker,omitempty"`
}

// JourneySummary counts what the map holds.
type JourneySummary struct {
	// personas is the number of personas.
	// +optional
	Personas int32 `json:"personas"`
	// stages is the number of stages.
	// +optional
	Stages int32 `json:"stages"`
	// touchpoints is the number of touchpoints over all stages.
	// +optional
	Touchpoints int32 `json:"touchpoints"`
	// channels is the number of distinct channels.
	// +optional
	Channels int32 `json:"channels"`
	// painPoints is the number of pain points.
	// +optional
	PainPoints int32 `json:"painPoints"`
	// quickWins is the number of pain points with high impact and low effort.
	// +optional
	QuickWins int32 `json:"quickWins"`
	// momentsOfTruth is the number of touchpoints marked as moments of truth.
	// +optional
	MomentsOfTruth int32 `json:"momentsOfTruth"`
	// topTasks is the number of touchpoints marked as top tasks.
	// +optional
	TopTasks int32 `json:"topTasks"`
}

// Gap is something the map still lacks.
type Gap struct {
	// key identifies the gap stably across reconciles.
	// +required
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key,omitempty"`
	// kind of gap: PersonaNotScored, TouchpointWithoutOwner,
	// StageWithoutMomentOfTruth, PainPointNotSized, PersonaWithoutGoals, NoTopTask.
	// +required
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind,omitempty"`
	// message says what is missing and where, for a person.
	// +required
	// +kubebuilder:validation:MinLength=1
	Message string `json:"message,omitempty"`
}

// IssueAttempt is a request to open an issue whose outcome cxloop has not seen yet.
type IssueAttempt struct {
	// key is the issue's tracker key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Key string `json:"key,omitempty"`
	// at is when cxloop asked GitHub to open it.
	// +required
	At metav1.Time `json:"at,omitempty"`
}

// IssueReference points at a GitHub issue.
type IssueReference struct {
	// number of the issue.
	// +required
	// +kubebuilder:validation:Minimum=1
	Number int64 `json:"number,omitempty"`
	// url of the issue.
	// +required
	// +kubebuilder:validation:MinLength=1
	URL string `json:"url,omitempty"`
}

// ReviewStatus describes the journey's reviews.
type ReviewStatus struct {
	// lastScheduledTime is the scheduled time of the most recent review cxloop opened.
	// +optional
	LastScheduledTime *metav1.Time `json:"lastScheduledTime,omitempty"`
	// openIssue is the review issue still open, if any.
	// +optional
	OpenIssue *IssueReference `json:"openIssue,omitempty"`
	// missed counts reviews that were not opened because they were past the
	// starting deadline; unset while there are none.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Missed int32 `json:"missed,omitempty"`
	// mapDigest is a digest of the map at the last review.
	// +optional
	// +kubebuilder:validation:MinLength=1
	MapDigest string `json:"mapDigest,omitempty"`
	// unchangedReviews counts consecutive reviews at which the map had not
	// changed; unset while there are none.
	// +optional
	// +kubebuilder:validation:Minimum=1
	UnchangedReviews int32 `json:"unchangedReviews,omitempty"`
}

// JourneyHistoryPoint is the journey's figures at one time.
type JourneyHistoryPoint struct {
	// time is when the figures were recorded.
	// +required
	Time metav1.Time `json:"time,omitempty"`
	// healthScore is the health score (0-100) at that time.
	// +optional
	HealthScore int32 `json:"healthScore"`
	// touchpoints is the number of touchpoints in the map.
	// +optional
	Touchpoints int32 `json:"touchpoints"`
	// gaps is the number of gaps of the map.
	// +optional
	Gaps int32 `json:"gaps"`
	// openPainPoints counts the pain points whose work was not closed.
	// +optional
	OpenPainPoints int32 `json:"openPainPoints"`
	// emotionGapHundredths is the mean distance from how the personas feel
	// today (as-is) to their targets (to-be), over the experiences with a
	// target, in hundredths of a step of the -2…+2 scale: 125 is 1.25 steps.
	// +optional
	EmotionGapHundredths int32 `json:"emotionGapHundredths"`
}

// GitHubRepositoryStatus identifies a GitHub repository.
type GitHubRepositoryStatus struct {
	// id is GitHub's ID of the repository; it survives renames and transfers.
	// +required
	// +kubebuilder:validation:Minimum=1
	ID int64 `json:"id,omitempty"`
	// fullName is the repository's owner/name as GitHub answered it last.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=140
	FullName string `json:"fullName,omitempty"`
}

// CustomerJourneyStatus is what cxloop observed of the journey.
// +kubebuilder:validation:MinProperties=1
type CustomerJourneyStatus struct {
	// conditions are the journey's observed state: Ready, Reconciling and
	// Stalled (kstatus), TrackerReady, RateLimited, ReviewOverdue, Stale, MeasuresReady,
	// RepositoryRenamed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// summary counts what the map holds.
	// +optional
	Summary *JourneySummary `json:"summary,omitempty"`

	// healthScore rates the journey from 0 to 100: today's feelings, the
	// distance to the targets and the open pain points, weighted towards
	// moments of truth and top tasks.
	// +optional
	HealthScore *int32 `json:"healthScore,omitempty"`

	// gaps are what the map still lacks.
	// +optional
	// +listType=atomic
	Gaps []Gap `json:"gaps,omitempty"`

	// activePhase is the name of the journey's ImprovementPhase that is Active now.
	// +optional
	// +kubebuilder:validation:MinLength=1
	ActivePhase string `json:"activePhase,omitempty"`

	// lastReviewTime is when the last review was done (its issue closed).
	// +optional
	LastReviewTime *metav1.Time `json:"lastReviewTime,omitempty"`

	// nextReviewTime is when the next review is due.
	// +optional
	NextReviewTime *metav1.Time `json:"nextReviewTime,omitempty"`

	// review describes the journey's reviews.
	// +optional
	Review *ReviewStatus `json:"review,omitempty"`

	// githubRepository is the repository of spec.tracker.github as GitHub
	// knows it: its ID, which stays when the repository is renamed or
	// transferred, and its name today. Webhook deliveries are matched by the ID.
	// +optional
	GitHubRepository *GitHubRepositoryStatus `json:"githubRepository,omitempty"`

	// dashboard is the journey's dashboard issue, when opted in.
	// +optional
	Dashboard *IssueReference `json:"dashboard,omitempty"`
	// issueAttempts are the journey's own issues (reviews, the dashboard)
	// that cxloop asked GitHub to open and has not seen yet. Until one shows
	// up, cxloop waits a grace period before asking again, so that a create
	// still in flight when cxloop restarted is adopted, not repeated.
	// +optional
	// +listType=map
	// +listMapKey=key
	// +kubebuilder:validation:MaxItems=8
	IssueAttempts []IssueAttempt `json:"issueAttempts,omitempty"`

	// history is a short record of the journey's figures, oldest first: a
	// point is added when they change, at most once an hour. At most 60
	// points (about 8 KB) are kept; when full, the point closest in time to
	// its neighbours is dropped, so the history keeps its whole span.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=60
	History []JourneyHistoryPoint `json:"history,omitempty"`

	// measures are the latest readings of the map's measures from Prometheus,
	// one per measure of the map; admission keeps a map to at most 500
	// measures, so that they always fit.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=500
	Measures []MeasureStatus `json:"measures,omitempty"`
}

// CustomerJourney is a customer journey map: the personas, the stages and
// the touchpoints at each stage across channels, how each persona feels
// there, and the pain points found. cxloop keeps it alive: it scores the
// map, finds its gaps, schedules its reviews and drives its improvement
// phases.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cxj;journey;journeys,categories=cx
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 100",message="metadata.name must be at most 100 characters: it is part of the key of every GitHub issue the journey opens"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Health",type=integer,JSONPath=`.status.healthScore`
// +kubebuilder:printcolumn:name="Touchpoints",type=integer,JSONPath=`.status.summary.touchpoints`
// +kubebuilder:printcolumn:name="Quick Wins",type=integer,JSONPath=`.status.summary.quickWins`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.activePhase`
// +kubebuilder:printcolumn:name="Next Review",type=string,JSONPath=`.status.nextReviewTime`
// +kubebuilder:printcolumn:name="Status",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CustomerJourney struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the journey map.
	// +required
	Spec CustomerJourneySpec `json:"spec,omitzero"`

	// status is what cxloop observed of the journey.
	// +optional
	Status CustomerJourneyStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// CustomerJourneyList is a list of CustomerJourney.
type CustomerJourneyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomerJourney `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CustomerJourney{}, &CustomerJourneyList{})
}
