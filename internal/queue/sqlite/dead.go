package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// ListDead returns up to limit dead messages (100 when limit <= 0), oldest death first.
func (q *Queue) ListDead(ctx context.Context, limit int) ([]queue.DeadMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := q.oldestDead(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead of %s: %w", q.name, err)
	}
	return out, nil
}

// TakeDead hands the oldest dead messages to file and deletes those it accepted.
func (q *Queue) TakeDead(ctx context.Context, max int, file func(context.Context, []queue.DeadMessage) error) (int, error) {
	if max < 1 {
		return 0, fmt.Errorf("take dead of %s: max %d must be at least 1", q.name, max)
	}
	dead, err := q.oldestDead(ctx, max)
	if err != nil {
		return 0, fmt.Errorf("take dead of %s: %w", q.name, err)
	}
	if len(dead) == 0 {
		return 0, nil
	}
	if err := file(ctx, dead); err != nil {
		return 0, fmt.Errorf("take dead of %s: %w", q.name, err)
	}
	args := []any{q.name}
	for _, d := range dead {
		id, _ := strconv.ParseInt(d.ID, 10, 64) // oldestDead formatted it from an integer
		args = append(args, id)
	}
	res, err := q.b.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE queue = ? AND id IN (`+placeholders(len(dead))+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("take dead of %s: delete: %w", q.name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("take dead of %s: delete: %w", q.name, err)
	}
	return int(n), nil
}

// oldestDead reads up to limit dead messages, oldest death first.
func (q *Queue) oldestDead(ctx context.Context, limit int) ([]queue.DeadMessage, error) {
	rows, err := q.b.db.QueryContext(ctx, `SELECT id, body, grp, reason, attempts, sent_at, dead_at
		FROM dead_letters WHERE queue = ? ORDER BY dead_at, id LIMIT ?`, q.name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queue.DeadMessage
	for rows.Next() {
		var d queue.DeadMessage
		var id, sent, dead int64
		if err := rows.Scan(&id, &d.Body, &d.Group, &d.Reason, &d.Attempts, &sent, &dead); err != nil {
			return nil, err
		}
		d.ID = strconv.FormatInt(id, 10)
		d.SentAt = time.Unix(0, sent).UTC()
		d.DeadAt = time.Unix(0, dead).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Redrive moves dead messages (all when ids is empty) back to the queue's tail with a
// fresh receive budget and a new id; unknown ids are skipped. It returns how many moved.
func (q *Queue) Redrive(ctx context.Context, ids []string) (int, error) {
	query := `SELECT id, body, grp, key, sent_at FROM dead_letters WHERE queue = ?`
	args := []any{q.name}
	if len(ids) > 0 {
		for _, id := range ids {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				args = append(args, n)
			}
		}
		if len(args) == 1 {
			return 0, nil // none of the ids can name a message here
		}
		query += ` AND id IN (` + placeholders(len(args)-1) + `)`
	}
	query += ` ORDER BY id`
	moved := 0
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		type dead struct {
			id       int64
			body     []byte
			grp, key string
			sentAt   int64
		}
		var all []dead
		rows, err := q.query(ctx, tx, query, args...)
		if err != nil {
			return fmt.Errorf("select dead: %w", err)
		}
		for rows.Next() {
			var d dead
			if err := rows.Scan(&d.id, &d.body, &d.grp, &d.key, &d.sentAt); err != nil {
				rows.Close()
				return fmt.Errorf("scan dead: %w", err)
			}
			all = append(all, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select dead: %w", err)
		}
		ins, err := q.prepareInsert(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		now := time.Now().UnixNano()
		for _, d := range all {
			// No Key coalescing here: the operator asked for this message back.
			if err := ins.insert(ctx, d.body, d.grp, d.key, d.sentAt, now); err != nil {
				return err
			}
			if _, err := q.exec(ctx, tx, sqlDeleteDead, d.id); err != nil {
				return fmt.Errorf("delete dead: %w", err)
			}
			moved++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redrive %s: %w", q.name, err)
	}
	if moved > 0 {
		q.sig.wake()
	}
	return moved, nil
}

// Stats counts waiting (including delayed and visibility-expired), in-flight and dead messages.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	now := time.Now().UnixNano()
	st := queue.Stats{Name: q.name}
	var total int64
	var oldest sql.NullInt64
	err := q.b.db.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(in_flight = 1 AND visible_at > ?1), 0),
		MIN(CASE WHEN NOT (in_flight = 1 AND visible_at > ?1) THEN sent_at END)
		FROM messages WHERE queue = ?2`, now, q.name).Scan(&total, &st.InFlight, &oldest)
	if err != nil {
		return st, fmt.Errorf("stats of %s: %w", q.name, err)
	}
	st.Waiting = total - st.InFlight
	if oldest.Valid {
		st.OldestAge = time.Duration(now - oldest.Int64)
	}
	if err := q.b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dead_letters WHERE queue = ?`, q.name).Scan(&st.Dead); err != nil {
		return st, fmt.Errorf("stats of %s: %w", q.name, err)
	}
	return st, nil
}
