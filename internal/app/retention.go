package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// RetentionEnv names the history retention setting: how long finished jobs (with their
// reports) and processed deliveries (raw payloads) are kept, as whole days ("30d") or a
// Go duration ("720h"); unset is store.DefaultRetention. It is one setting per
// deployment, read by every process that writes history: on AWS each record carries its
// own expiry (DynamoDB TTL), so all functions must agree, and the stacks set it on every
// function like the table name.
const RetentionEnv = "PONTE_RETENTION"

// RetentionFromEnv reads PONTE_RETENTION; a bad value is an error naming it.
func RetentionFromEnv() (time.Duration, error) {
	d, err := store.ParseRetention(os.Getenv(RetentionEnv))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", RetentionEnv, err)
	}
	return d, nil
}

// purgeBatch bounds one purge transaction, so API writes queue behind it for
// milliseconds, not for the whole purge.
const purgeBatch = 500

// expiredPurger is a store without TTL that deletes expired history itself (SQLite).
// DynamoDB's TTL deletes by the expiry attribute, so the AWS store has no such method.
type expiredPurger interface {
	PurgeExpired(ctx context.Context, now time.Time, batch int) (int, error)
}

// purgeExpired deletes the history whose retention has ended (the embedded store).
func (h *Hub) purgeExpired(ctx context.Context) {
	p, ok := h.Store.(expiredPurger)
	if !ok {
		return
	}
	n, err := p.PurgeExpired(ctx, time.Now(), purgeBatch)
	if err != nil && ctx.Err() == nil {
		h.Log.Error("purge of expired history failed", "err", err, "purged", n)
		return
	}
	if n > 0 {
		h.Log.Info("purged expired history", "rows", n)
	}
}
