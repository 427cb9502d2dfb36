package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// Option configures a Store.
type Option func(*Store)

// WithRetention keeps history (finished jobs, processed deliveries) for d before
// PurgeExpired deletes it; d <= 0 keeps store.DefaultRetention.
func WithRetention(d time.Duration) Option {
	return func(s *Store) { s.keep = d }
}

func (s *Store) retention() time.Duration {
	if s.keep > 0 {
		return s.keep
	}
	return store.DefaultRetention
}

// purgeTables are the tables with an expiry column, the column and its unit per second,
// and the key deleting one row. Idempotency records carry their own expiry
// (ClaimIdempotency replaces an expired one; the purge frees the space).
// Dead letters expire by age (dead_at_ns older than the retention).
var purgeTables = []struct {
	table, expiry, key string
	byAge              bool
}{
	{"jobs", "expires_at_ns", "tenant, id", false},
	{"deliveries", "expires_at_ns", "connection_id, id", false},
	{"idempotency", "expires_at_ms", "key", false},
	{"dead_letters", "dead_at_ns", "tenant, queue, id", true},
}

// PurgeExpired deletes the rows whose expiry is at or before now, at most batch rows per
// write transaction so the single writer is never held for long, until none is left or
// ctx ends. It returns how many rows it deleted. SQLite has no TTL: the local scheduler
// runs this (DynamoDB deletes by its TTL attribute instead).
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("purge expired: batch %d must be positive", batch)
	}
	total := 0
	for _, t := range purgeTables {
		cutoff := now.UnixNano()
		switch {
		case t.byAge:
			cutoff = now.Add(-s.retention()).UnixNano() // the dead_at of one expiring now (store.DeadLetterExpiry)
		case t.expiry == "expires_at_ms":
			cutoff = now.UnixMilli()
		}
		query := `DELETE FROM ` + t.table + ` WHERE (` + t.key + `) IN (SELECT ` + t.key + ` FROM ` + t.table +
			` WHERE ` + t.expiry + ` <= ? LIMIT ?)`
		for {
			if err := ctx.Err(); err != nil {
				return total, fmt.Errorf("purge expired %s: %w", t.table, err)
			}
			res, err := s.execW(ctx, query, cutoff, batch)
			if err != nil {
				return total, fmt.Errorf("purge expired %s: %w", t.table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("purge expired %s: %w", t.table, err)
			}
			total += int(n)
			if n < int64(batch) {
				break
			}
		}
	}
	return total, nil
}

// expiryNanos is an expiry column's value: NULL for the zero time (never expires).
func expiryNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}
