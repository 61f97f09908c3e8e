package controllers

// Kinds of a phase item's source.
const (
	itemKindGap             = "Gap"
	itemKindPainPoint       = "PainPoint"
	itemKindPersonalization = "Personalization"
)
