package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// ClaimIdempotency inserts an in-progress claim, live for lease, unless a live row
// exists. Liveness is decided by expires_at_ms in the same statement, so a lapsed lease
// (its holder died) or an expired outcome that was never cleaned up is simply replaced.
func (s *Store) ClaimIdempotency(ctx context.Context, key, requestHash string, lease time.Duration) (store.IdempotencyRecord, bool, error) {
	if key == "" {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency: empty key")
	}
	now := time.Now().UTC()
	rec := store.IdempotencyRecord{
		Key:         key,
		RequestHash: requestHash,
		Status:      store.IdemInProgress,
		ExpiresAt:   now.Add(lease).Truncate(time.Millisecond),
		Owner:       rand.Text(),
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: begin: %w", key, err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO idempotency (key, request_hash, status, status_code, response, expires_at_ms, owner)
		 VALUES (?, ?, ?, 0, NULL, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status,
		   status_code = 0, response = NULL, expires_at_ms = excluded.expires_at_ms, owner = excluded.owner
		 WHERE idempotency.expires_at_ms <= ?`,
		key, requestHash, rec.Status, rec.ExpiresAt.UnixMilli(), rec.Owner, now.UnixMilli())
	if err != nil {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: %w", key, err)
	}
	claimed := n == 1
	if !claimed {
		rec, err = scanIdem(tx.QueryRowContext(ctx, idemSelect, key))
		if err != nil {
			return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: read existing: %w", key, err)
		}
	}
	// Opportunistic cleanup keeps the table small without a sweeper; bounded so a claim
	// never pays for a large backlog at once.
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM idempotency WHERE rowid IN
		   (SELECT rowid FROM idempotency WHERE expires_at_ms <= ? LIMIT 100)`, now.UnixMilli()); err != nil {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: cleanup: %w", key, err)
	}
	if err := tx.Commit(); err != nil {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: commit: %w", key, err)
	}
	return rec, claimed, nil
}

// RenewIdempotency pushes owner's live in-progress claim to now+lease.
func (s *Store) RenewIdempotency(ctx context.Context, key, owner string, lease time.Duration) error {
	now := time.Now().UTC()
	res, err := s.write.ExecContext(ctx,
		`UPDATE idempotency SET expires_at_ms = ?
		 WHERE key = ? AND owner = ? AND status = ? AND expires_at_ms > ?`,
		now.Add(lease).UnixMilli(), key, owner, store.IdemInProgress, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("renew idempotency %s: %w", key, err)
	}
	return oneRow(res, "renew idempotency "+key)
}

// CompleteIdempotency stores the response of owner's live claim, kept for ttl.
func (s *Store) CompleteIdempotency(ctx context.Context, key, owner string, statusCode int, response []byte, ttl time.Duration) error {
	now := time.Now().UTC()
	if response == nil {
		response = []byte{} // NULL would read back as "no response"; an empty body is still a body.
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE idempotency SET status = ?, status_code = ?, response = ?, expires_at_ms = ?
		 WHERE key = ? AND owner = ? AND status = ? AND expires_at_ms > ?`,
		store.IdemCompleted, statusCode, response, now.Add(ttl).UnixMilli(),
		key, owner, store.IdemInProgress, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("complete idempotency %s: %w", key, err)
	}
	return oneRow(res, "complete idempotency "+key)
}

// ReleaseIdempotency deletes owner's in-progress claim; nothing to release is not an error.
func (s *Store) ReleaseIdempotency(ctx context.Context, key, owner string) error {
	if _, err := s.write.ExecContext(ctx,
		`DELETE FROM idempotency WHERE key = ? AND owner = ? AND status = ?`,
		key, owner, store.IdemInProgress); err != nil {
		return fmt.Errorf("release idempotency %s: %w", key, err)
	}
	return nil
}

// oneRow turns "no row matched" into store.ErrNotFound: the claim is not (or no longer)
// the caller's.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: no live claim held by this owner: %w", what, store.ErrNotFound)
	}
	return nil
}

const idemSelect = `SELECT key, request_hash, status, status_code, response, expires_at_ms FROM idempotency WHERE key = ?`

func scanIdem(row *sql.Row) (store.IdempotencyRecord, error) {
	var (
		rec store.IdempotencyRecord
		ms  int64
	)
	err := row.Scan(&rec.Key, &rec.RequestHash, &rec.Status, &rec.StatusCode, &rec.Response, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return store.IdempotencyRecord{}, store.ErrNotFound
	}
	if err != nil {
		return store.IdempotencyRecord{}, err
	}
	rec.ExpiresAt = time.UnixMilli(ms).UTC()
	return rec, nil
}
