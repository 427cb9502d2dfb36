package notify

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/worker"
)

const (
	// maxReason bounds the part of a refusal body kept in a dead-letter reason.
	maxReason = 300
	// maxRetryAfter caps a receiver's wait hint, so a typo there cannot park an event
	// for days; the worker's attempt limit still applies.
	maxRetryAfter = time.Hour
)

// classify maps an endpoint's answer to the worker's outcome: nil for 2xx, Retry for
// answers that may pass (408, 425, 429, 5xx), Dead for the rest with a reason the
// operator can act on.
func classify(status int, h http.Header, body []byte, now time.Time) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly,
		status == http.StatusTooManyRequests, status >= 500:
		return worker.Retry(retryAfter(h, now), &statusError{status: status, body: snippet(body)})
	case status == http.StatusGone:
		return worker.Dead("endpoint gone (HTTP 410): the receiver asked us to stop sending")
	case status >= 400:
		return worker.Dead("endpoint refused the event: HTTP %d: %s", status, orNone(snippet(body)))
	default:
		return worker.Dead("endpoint answered HTTP %d; redirects are not followed, so fix the endpoint URL", status)
	}
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return "endpoint answered HTTP " + strconv.Itoa(e.status) + ": " + orNone(e.body)
}

// retryAfter reads Retry-After as delay-seconds or an HTTP date; 0 (the worker's own
// backoff) when absent, unreadable or already past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// snippet makes up to maxReason bytes of a body readable on one line: invalid UTF-8
// and control characters become spaces, runs of spaces collapse, and a cut is marked.
func snippet(body []byte) string {
	cut := len(body) > maxReason
	if cut {
		body = body[:maxReason] // a rune cut in two becomes a space below
	}
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(body), " "))
	s = strings.Join(strings.Fields(s), " ")
	if cut {
		s += "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(empty body)"
	}
	return s
}
