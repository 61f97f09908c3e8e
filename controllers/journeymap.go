package controllers

import (
	"slices"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"k8s.io/utils/ptr"
)

// journeyMap converts the API's journey spec into the analytics' Map.
func journeyMap(spec *cxv1.CustomerJourneySpec) journey.Map {
	m := journey.Map{Personas: make([]journey.Persona, 0, len(spec.Personas)), Stages: make([]journey.Stage, 0, len(spec.Stages))}
	for _, p := range spec.Personas {
		m.Personas = append(m.Personas, journey.Persona{Name: p.Name, Description: p.Description, Goals: slices.Clip(p.Goals)})
	}
	for _, s := range spec.Stages {
		stage := journey.Stage{Name: s.Name, Description: s.Description, Touchpoints: make([]journey.Touchpoint, 0, len(s.Touchpoints))}
		for _, t := range s.Touchpoints {
			tp := journey.Touchpoint{
				Name: t.Name, Channel: channelName(t), Owner: t.Owner,
				TopTask: ptr.Deref(t.TopTask, false), MomentOfTruth: ptr.Deref(t.MomentOfTruth, false), Personalize: ptr.Deref(t.Personalize, false),
			}
			for _, e := range t.Experiences {
				tp.Experiences = append(tp.Experiences, journey.Experience{Persona: e.Persona, Score: int(ptr.Deref(e.Score, 0)), Target: intPtr(e.Target), Note: e.Note})
			}
			for _, p := range t.PainPoints {
				tp.PainPoints = append(tp.PainPoints, journey.PainPoint{
					ID: p.ID, Summary: p.Summary, Personas: slices.Clip(p.Personas),
					Impact: sizePtr(p.Impact), Effort: sizePtr(p.Effort), Personalize: ptr.Deref(p.Personalize, false),
				})
			}
			stage.Touchpoints = append(stage.Touchpoints, tp)
		}
		m.Stages = append(m.Stages, stage)
	}
	return m
}

// channelName is the touchpoint's channel, or the name it was given when
// the channel is "other".
func channelName(t cxv1.Touchpoint) string {
	if t.Channel == "other" && t.ChannelName != "" {
		return t.ChannelName
	}
	return string(t.Channel)
}

// sizePtr is an impact or effort for the analytics: nil while it is still
// to be sized (0 in the API, whose values start at 1).
func sizePtr(v int32) *int {
	if v == 0 {
		return nil
	}
	i := int(v)
	return &i
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}
