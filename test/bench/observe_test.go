package main

import "testing"

func TestOnlyWaiting(t *testing.T) {
	waiting := "TrueWriteBudget4 planned items wait for the write budget"
	for _, tc := range []struct {
		name        string
		before, now map[string]string
		want        bool
	}{
		{"waits before and after, same items", map[string]string{"conditions/RateLimited": waiting, "items": "a", "lastSyncTime": "1"},
			map[string]string{"conditions/RateLimited": waiting + "!", "items": "a", "lastSyncTime": "2"}, true},
		{"an item changed while waiting", map[string]string{"conditions/RateLimited": waiting, "items": "a"},
			map[string]string{"conditions/RateLimited": waiting, "items": "b"}, false},
		{"starts waiting", map[string]string{"items": "a"},
			map[string]string{"conditions/RateLimited": waiting, "items": "a"}, false},
		{"stops waiting", map[string]string{"conditions/RateLimited": waiting, "items": "a"},
			map[string]string{"items": "a"}, false},
		{"a GitHub rate limit, not the budget", map[string]string{"conditions/RateLimited": "TrueRateLimited", "items": "a"},
			map[string]string{"conditions/RateLimited": "TrueRateLimited", "items": "a"}, false},
	} {
		if got := onlyWaiting(tc.before, tc.now); got != tc.want {
			t.Errorf("%s: onlyWaiting = %v, want %v", tc.name, got, tc.want)
		}
	}
}
