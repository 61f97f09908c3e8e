package tracker

// ForgetBudgets drops every token's in-memory budget, as a restart of the
// process does; a BudgetStore keeps what it saved.
func ForgetBudgets() {
	limitStatesMu.Lock()
	defer limitStatesMu.Unlock()
	limitStates = map[string]*limitState{}
}

// ConditionalCacheStats is what the process's store of conditional answers
// holds.
func ConditionalCacheStats() (entries, bytes int) { return etagAnswers.stats() }
