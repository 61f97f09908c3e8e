package tracker

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzKeyMarker: the key marker is how cxloop finds its issues again, so
// whatever a person writes in an issue's body, cxloop reads back only the
// key it wrote, and never a key it could not have written.
func FuzzKeyMarker(f *testing.F) {
	f.Add("Customers cannot find the parking.", "default/nature-park-visit/painpoint/parking-signs")
	f.Add("", "k")
	f.Add("Hello\r\n\r\n<!-- cxloop:key=old -->\r\n", "new")
	f.Add("<!--cxloop:key=a--><!--   cxloop:key=b   -->", "default/j/gap/no-top-task/journey")
	f.Add("<!-- cxloop:key=<!-- cxloop:key=inner -->outer -->", "mine")
	f.Add("text <!-- cxloop:key="+strings.Repeat("k", 201)+" --> more", "h/0123456789abcdef0123456789abcdef")
	f.Add(strings.Repeat("é", maxBodyChars), "long")
	f.Add("@octocat #12 <b>bold</b> \x00\x7f", "a.b_c:d/e-f")
	f.Fuzz(func(t *testing.T, body, key string) {
		if got := KeyFromBody(body); got != "" && !ValidKey(got) {
			t.Fatalf("body %q yields key %q, which cxloop never writes", body, got)
		}

		stripped := stripMarkers(body)
		if again := stripMarkers(stripped); again != stripped {
			t.Fatalf("stripping markers twice changes the body: %q, then %q", stripped, again)
		}
		if got := KeyFromBody(stripped); got != "" {
			t.Fatalf("a stripped body still yields key %q: %q", got, stripped)
		}

		if !ValidKey(key) {
			return
		}
		composed := composeBody(body, key)
		if got := KeyFromBody(composed); got != key {
			t.Fatalf("composed with key %q, read back %q from %q", key, got, composed)
		}
		if n := strings.Count(composed, "cxloop:key="); n < 1 {
			t.Fatalf("no marker in %q", composed)
		}
		if n := utf8.RuneCountInString(composed); n > maxBodyChars {
			t.Fatalf("composed body of %d characters exceeds GitHub's %d", n, maxBodyChars)
		}
		// What cxloop reads back as the body is what it composed, minus the marker.
		if recomposed := composeBody(stripMarkers(composed), key); recomposed != composed {
			t.Fatalf("composing again changes the body:\n%q\n%q", composed, recomposed)
		}
		// A person's copy of the body (as GitHub's editor saves it, with
		// CRLF) keeps the key.
		if got := KeyFromBody(strings.ReplaceAll(composed, "\n", "\r\n")); got != key {
			t.Fatalf("CRLF body reads key %q, want %q", got, key)
		}
	})
}

// TestStripMarkersNestedDeeply: markers nested in markers, as a body built
// to make cxloop strip again and again, cost one pass, not one per level.
func TestStripMarkersNestedDeeply(t *testing.T) {
	body := strings.Repeat("<!-- cxloop:key=", 3000) + "a -->" + strings.Repeat("b -->", 2999)
	start := time.Now()
	stripped := stripMarkers(body)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stripping took %v", took)
	}
	if k := KeyFromBody(stripped); k != "" {
		t.Errorf("the stripped body still yields key %q", k)
	}
	if got := KeyFromBody(composeBody(body, "mine")); got != "mine" {
		t.Errorf("composed over it, the key reads %q", got)
	}
}
