package tracker

// KeyFromBody returns the key of the first key marker in an issue body, or
// "" when it has none (not an issue cxloop opened).
func KeyFromBody(body string) string { return keyFromBody(body) }
