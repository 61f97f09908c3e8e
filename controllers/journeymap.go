package controllers

import (
	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
)

// journeyMap converts the API's journey spec into the analytics' Map.
func journeyMap(spec *cxv1.CustomerJourneySpec) journey.Map {
	m := journey.Map{Personas: make([]journey.Persona, 0, len(spec.Personas)), Stages: make([]journey.Stage, 0, len(spec.Stages))}
	for _, p := range spec.Personas {
		m.Personas = append(m.Personas, journey.Persona{Name: p.Name, Description: p.Description, Goals: p.Goals})
	}
	for _, s := range spec.Stages {
		stage := journey.Stage{Name: s.Name, Description: s.Description, Touchpoints: make([]journey.Touchpoint, 0, len(s.Touchpoints))}
		for _, t := range s.Touchpoints {
			tp := journey.Touchpoint{
				Name: t.Name, Channel: channelName(t), Owner: t.Owner,
				TopTask: t.TopTask, MomentOfTruth: t.MomentOfTruth, Personalize: t.Personalize,
			}
			for _, e := range t.Experiences {
				tp.Experiences = append(tp.Experiences, journey.Experience{Persona: e.Persona, Score: int(e.Score), Target: intPtr(e.Target), Note: e.Note})
			}
			for _, p := range t.PainPoints {
				tp.PainPoints = append(tp.PainPoints, journey.PainPoint{
					ID: p.ID, Summary: p.Summary, Personas: p.Personas,
					Impact: intPtr(p.Impact), Effort: intPtr(p.Effort), Personalize: p.Personalize,
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

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}
