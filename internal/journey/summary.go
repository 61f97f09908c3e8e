package journey

// Summary counts what a map holds.
type Summary struct {
	Personas, Stages, Touchpoints, Channels, PainPoints, QuickWins, MomentsOfTruth, TopTasks int
}

// Summarize counts the map's personas, stages, touchpoints, distinct
// channels, pain points, quick wins (under quickWins), moments of truth and top tasks.
func Summarize(m Map, quickWins Selector) Summary {
	s := Summary{Personas: len(m.Personas), Stages: len(m.Stages)}
	channels := map[string]bool{}
	for _, st := range m.Stages {
		for _, t := range st.Touchpoints {
			s.Touchpoints++
			channels[t.Channel] = true
			s.PainPoints += len(t.PainPoints)
			if t.MomentOfTruth {
				s.MomentsOfTruth++
			}
			if t.TopTask {
				s.TopTasks++
			}
			for _, p := range t.PainPoints {
				if quickWins.IsQuickWin(p) {
					s.QuickWins++
				}
			}
		}
	}
	s.Channels = len(channels)
	return s
}
