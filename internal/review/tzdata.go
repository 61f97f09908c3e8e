package review

// The operator image may not ship /usr/share/zoneinfo (distroless, scratch).
// Embedding the IANA database keeps spec.review.timeZone working there; the
// system database, when present, still takes precedence.
import _ "time/tzdata"
