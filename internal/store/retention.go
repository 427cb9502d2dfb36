package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultRetention is how long history is kept when nothing else is configured: finished
// jobs (with their reports) and processed deliveries (raw payloads). Thirty days cover a
// monthly close and the platforms' own dispute windows for a webhook.
const DefaultRetention = 30 * 24 * time.Hour

// Bounds of a configured retention: below a day an operator could not look at last
// night's failures; above ten years "keep for ever" is better said by a backup.
const (
	MinRetention = 24 * time.Hour
	MaxRetention = 10 * 365 * 24 * time.Hour
)

// ParseRetention reads a retention setting: whole days ("30d") or a Go duration ("720h").
// "" is DefaultRetention. The error names the value; the caller names the setting.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultRetention, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("retention %q: want whole days like 30d or a duration like 720h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("retention %q: want whole days like 30d or a duration like 720h", s)
		}
	}
	if d < MinRetention || d > MaxRetention {
		return 0, fmt.Errorf("retention %q: must be between 1d and 3650d", s)
	}
	return d, nil
}

// JobExpiry is when a job may be deleted: retention after it finished. A running job
// never expires (zero time): it is live state, resumed after a crash.
func JobExpiry(j Job, retention time.Duration) time.Time {
	if j.Status == JobRunning {
		return time.Time{}
	}
	end := j.UpdatedAt
	if j.FinishedAt != nil {
		end = *j.FinishedAt
	}
	return end.UTC().Add(retention)
}

// DeliveryExpiry is when a delivery (its raw payload) may be deleted: retention after the
// order worker processed it. An unprocessed delivery never expires (zero time): the
// sweeper must still find it, so no accepted order is lost.
func DeliveryExpiry(d Delivery, retention time.Duration) time.Time {
	if d.ProcessedAt == nil {
		return time.Time{}
	}
	return d.ProcessedAt.UTC().Add(retention)
}

// DeadLetterExpiry is when a filed failure nobody retried is history: retention after
// it died (longer than SQS keeps a DLQ copy, 14 days, by default).
func DeadLetterExpiry(d DeadLetter, retention time.Duration) time.Time {
	return d.DeadAt.UTC().Add(retention)
}
