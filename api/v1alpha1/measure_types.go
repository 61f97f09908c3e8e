package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MeasureDirection says which way a measure should move.
// +kubebuilder:validation:Enum=HigherIsBetter;LowerIsBetter
type MeasureDirection string

const (
	// HigherIsBetter: CSAT, NPS, task completion.
	HigherIsBetter MeasureDirection = "HigherIsBetter"
	// LowerIsBetter: customer effort, drop-off, contact rate, waiting time.
	LowerIsBetter MeasureDirection = "LowerIsBetter"
)

// Measure is how the customer's experience at a touchpoint is measured,
// read from Prometheus.
type Measure struct {
	// name of the measure, unique at its touchpoint or pain point (for
	// example csat, ces, nps, drop-off, contact-rate). Lower case, digits and dashes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// query is the PromQL expression whose value is the measure. It must
	// return one series (aggregate with sum, avg or max to make it so); a
	// query that returns several is refused when it is run.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2000
	Query string `json:"query,omitempty"`

	// target is the value the touchpoint should reach, a decimal number
	// such as "4.2", "-10" or "0.05". A touchpoint whose latest value misses
	// it is a gap of the map.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$`
	Target string `json:"target,omitempty"`

	// direction is HigherIsBetter (CSAT, NPS) or LowerIsBetter (effort,
	// drop-off, contact rate).
	// +required
	Direction MeasureDirection `json:"direction,omitempty"`

	// tolerancePercent is the change, in percent of the baseline, within
	// which an outcome counts as unchanged; 5 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	TolerancePercent *int32 `json:"tolerancePercent,omitempty"`
}

// MeasureState is what the latest reading of a measure says.
// +kubebuilder:validation:Enum=MeetsTarget;MissesTarget;NoData;Error
type MeasureState string

const (
	// MeasureMeetsTarget: the latest value is on the right side of the target.
	MeasureMeetsTarget MeasureState = "MeetsTarget"
	// MeasureMissesTarget: the latest value misses the target.
	MeasureMissesTarget MeasureState = "MissesTarget"
	// MeasureNoData: the query returned no series.
	MeasureNoData MeasureState = "NoData"
	// MeasureError: the query could not be run (see message).
	MeasureError MeasureState = "Error"
)

// MeasureStatus is the latest reading of one measure of the map. Its target
// and direction are the spec's: status holds only what was read, which a
// journey of 500 measures writes again every few minutes.
type MeasureStatus struct {
	// stage of the touchpoint.
	// +required
	// +kubebuilder:validation:MinLength=1
	Stage string `json:"stage,omitempty"`
	// touchpoint measured.
	// +required
	// +kubebuilder:validation:MinLength=1
	Touchpoint string `json:"touchpoint,omitempty"`
	// painPoint id, for a measure declared on a pain point.
	// +optional
	// +kubebuilder:validation:MinLength=1
	PainPoint string `json:"painPoint,omitempty"`
	// name of the measure.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name,omitempty"`
	// state is MeetsTarget, MissesTarget, NoData or Error.
	// +required
	State MeasureState `json:"state,omitempty"`
	// value is the latest value, as a decimal number; unset without data.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:MinLength=1
	Value string `json:"value,omitempty"`
	// time is when the value was read.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
	// message says why there is no value, for a person.
	// +optional
	// +kubebuilder:validation:MaxLength=400
	// +kubebuilder:validation:MinLength=1
	Message string `json:"message,omitempty"`
}

// Verdict is whether a piece of work made the difference its measure shows.
// +kubebuilder:validation:Enum=Pending;Improved;Unchanged;Worse;NoData
type Verdict string

const (
	// VerdictPending: the issue is closed, and the settle window has not
	// passed yet (or Prometheus could not be read; see message).
	VerdictPending Verdict = "Pending"
	// VerdictImproved: the measure moved the right way by more than the tolerance.
	VerdictImproved Verdict = "Improved"
	// VerdictUnchanged: the measure moved less than the tolerance.
	VerdictUnchanged Verdict = "Unchanged"
	// VerdictWorse: the measure moved the wrong way by more than the tolerance.
	VerdictWorse Verdict = "Worse"
	// VerdictNoData: Prometheus had no data for the baseline or the after window.
	VerdictNoData Verdict = "NoData"
)

// ItemOutcome is whether the customer felt the difference after the item's
// issue was closed: its measure before the issue was opened against after
// the settle window.
type ItemOutcome struct {
	// measure is the name of the measure that judges the item: the pain
	// point's first measure, else its touchpoint's first measure.
	// +required
	// +kubebuilder:validation:MinLength=1
	Measure string `json:"measure,omitempty"`
	// verdict is Pending, Improved, Unchanged, Worse or NoData.
	// +required
	Verdict Verdict `json:"verdict,omitempty"`
	// baseline is the measure's mean over the settle window before the
	// issue was opened.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:MinLength=1
	Baseline string `json:"baseline,omitempty"`
	// after is the measure's mean over the settle window after the issue
	// was closed.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:MinLength=1
	After string `json:"after,omitempty"`
	// direction is HigherIsBetter or LowerIsBetter.
	// +optional
	Direction MeasureDirection `json:"direction,omitempty"`
	// verifyAt is when the settle window after the close ends and the
	// after value is read.
	// +optional
	VerifyAt *metav1.Time `json:"verifyAt,omitempty"`
	// verifiedAt is when the verdict was reached.
	// +optional
	VerifiedAt *metav1.Time `json:"verifiedAt,omitempty"`
	// commented is true once the verdict was written on the closed issue.
	// +optional
	Commented *bool `json:"commented,omitempty"`
	// message says how the verdict was reached, or why it is still pending.
	// +optional
	// +kubebuilder:validation:MaxLength=400
	// +kubebuilder:validation:MinLength=1
	Message string `json:"message,omitempty"`
}
