package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/store"
)

// deadLettersSchema is the dead-letter index (migration in store.go). Rows sort newest
// death first per tenant, and per tenant and connection, on the indexes' own order, so a
// page is a range scan however many rows another tenant or connection holds.
const deadLettersSchema = `CREATE TABLE dead_letters (
		tenant        TEXT    NOT NULL,
		queue         TEXT    NOT NULL,
		id            TEXT    NOT NULL,
		connection_id TEXT    NOT NULL DEFAULT '',
		dead_at_ns    INTEGER NOT NULL,
		data          TEXT    NOT NULL,
		PRIMARY KEY (tenant, queue, id)
	);
	CREATE INDEX dead_letters_recent ON dead_letters(tenant, dead_at_ns DESC, queue DESC, id DESC);
	CREATE INDEX dead_letters_connection ON dead_letters(tenant, connection_id, dead_at_ns DESC, queue DESC, id DESC);`

// PutDeadLetter files d, replacing the row of the same tenant, queue and id.
func (s *Store) PutDeadLetter(ctx context.Context, d store.DeadLetter) error {
	if err := store.ValidateDeadLetter(d); err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("put dead letter %s/%s: encode: %w", d.Queue, d.ID, err)
	}
	_, err = s.execW(ctx, `INSERT INTO dead_letters (tenant, queue, id, connection_id, dead_at_ns, data)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, queue, id) DO UPDATE SET
		connection_id = excluded.connection_id, dead_at_ns = excluded.dead_at_ns, data = excluded.data`,
		d.Tenant, d.Queue, d.ID, d.Connection, d.DeadAt.UnixNano(), string(data))
	if err != nil {
		return fmt.Errorf("put dead letter %s/%s: %w", d.Queue, d.ID, err)
	}
	return nil
}

// GetDeadLetter reads one of a tenant's dead letters.
func (s *Store) GetDeadLetter(ctx context.Context, tenant, queue, id string) (store.DeadLetter, error) {
	var d store.DeadLetter
	if err := s.getJSON(ctx, &d, `SELECT data FROM dead_letters WHERE tenant = ? AND queue = ? AND id = ?`, tenant, queue, id); err != nil {
		return store.DeadLetter{}, fmt.Errorf("get dead letter %s/%s: %w", queue, id, err)
	}
	return d, nil
}

// ListDeadLetters walks dead_letters_recent (or dead_letters_connection when filtered by
// connection) from the cursor's position: keyset paging, so rows filed or removed
// between pages never shift the others.
func (s *Store) ListDeadLetters(ctx context.Context, tenant string, f store.DeadLetterFilter, cursor string, limit int) ([]store.DeadLetter, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("list dead letters of %s: limit %d must be positive", tenant, limit)
	}
	c, err := store.ParseDeadLetterCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
	}
	where, args := []string{"tenant = ?"}, []any{tenant}
	if f.Connection != "" {
		where, args = append(where, "connection_id = ?"), append(args, f.Connection)
	}
	if f.Queue != "" {
		where, args = append(where, "queue = ?"), append(args, f.Queue)
	}
	if cursor != "" {
		where, args = append(where, "(dead_at_ns, queue, id) < (?, ?, ?)"), append(args, c.DeadAt.UnixNano(), c.Queue, c.ID)
	}
	args = append(args, limit+1)
	rows, err := s.queryR(ctx, `SELECT data FROM dead_letters WHERE `+strings.Join(where, " AND ")+`
		ORDER BY dead_at_ns DESC, queue DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
	}
	out, err := scanJSON[store.DeadLetter](rows)
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
	}
	if len(out) > limit {
		return out[:limit], store.CursorAfter(out[limit-1]), nil
	}
	return out, "", nil
}

// CountDeadLetters groups the tenant's rows by queue and connection.
func (s *Store) CountDeadLetters(ctx context.Context, tenant string) ([]store.DeadLetterCount, error) {
	rows, err := s.queryR(ctx, `SELECT queue, connection_id, COUNT(*) FROM dead_letters WHERE tenant = ?
		GROUP BY queue, connection_id ORDER BY queue, connection_id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("count dead letters of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []store.DeadLetterCount
	for rows.Next() {
		var c store.DeadLetterCount
		if err := rows.Scan(&c.Queue, &c.Connection, &c.Count); err != nil {
			return nil, fmt.Errorf("count dead letters of %s: %w", tenant, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count dead letters of %s: %w", tenant, err)
	}
	return out, nil
}

// DeleteDeadLetter removes one row; an absent row is no error.
func (s *Store) DeleteDeadLetter(ctx context.Context, tenant, queue, id string) error {
	if _, err := s.execW(ctx, `DELETE FROM dead_letters WHERE tenant = ? AND queue = ? AND id = ?`, tenant, queue, id); err != nil {
		return fmt.Errorf("delete dead letter %s/%s: %w", queue, id, err)
	}
	return nil
}
