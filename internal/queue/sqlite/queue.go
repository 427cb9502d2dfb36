package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// crossProcessRecheck bounds a Receive's sleep so that messages written by another
// process sharing the file (e.g. the CLI's redrive) are seen; sends in this process
// wake waiters at once through the queue's signal.
const crossProcessRecheck = 500 * time.Millisecond

// Queue is one named queue in a Broker. It implements queue.Queue.
type Queue struct {
	b    *Broker
	name string
	cfg  Config
	sig  *signal
}

var _ queue.Queue = (*Queue)(nil)

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Send stores all messages in one transaction. A message whose Key matches a message of
// the same queue and group that is still waiting (never received, or given back by
// Retry) is dropped: the waiting one will carry the work.
func (q *Queue) Send(ctx context.Context, msgs ...queue.OutMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	for i, m := range msgs {
		if q.cfg.FIFO && m.Group == "" {
			return fmt.Errorf("send to %s: message %d has no group, which a FIFO queue needs", q.name, i)
		}
	}
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := q.prepareInsert(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		now := time.Now().UnixNano()
		for _, m := range msgs {
			if m.Key != "" {
				var one int
				err := ins.keyed.QueryRowContext(ctx, q.name, m.Key, m.Group).Scan(&one)
				if err == nil {
					continue // coalesced
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("check key: %w", err)
				}
			}
			visible := now
			if m.Delay > 0 {
				visible += int64(m.Delay)
			}
			if err := ins.insert(ctx, m.Body, m.Group, m.Key, now, visible); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("send %d messages to %s: %w", len(msgs), q.name, err)
	}
	q.sig.wake()
	return nil
}

// inserter holds the statements Send and Redrive use inside one transaction.
type inserter struct {
	q                  *Queue
	keyed, grouped, in *sql.Stmt
}

func (q *Queue) prepareInsert(ctx context.Context, tx *sql.Tx) (*inserter, error) {
	ins := &inserter{q: q}
	var err error
	if ins.keyed, err = q.txStmt(ctx, tx, sqlKeyed); err != nil {
		return nil, fmt.Errorf("prepare key check: %w", err)
	}
	if ins.grouped, err = q.txStmt(ctx, tx, sqlGrouped); err != nil {
		ins.close()
		return nil, fmt.Errorf("prepare group check: %w", err)
	}
	if ins.in, err = q.txStmt(ctx, tx, sqlInsert); err != nil {
		ins.close()
		return nil, fmt.Errorf("prepare insert: %w", err)
	}
	return ins, nil
}

func (ins *inserter) close() {
	for _, s := range []*sql.Stmt{ins.keyed, ins.grouped, ins.in} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// insert adds one message; in a FIFO queue it is the group's head only if the group is empty.
func (ins *inserter) insert(ctx context.Context, body []byte, group, key string, sentAt, visibleAt int64) error {
	head := true
	if ins.q.cfg.FIFO {
		var one int
		err := ins.grouped.QueryRowContext(ctx, ins.q.name, group).Scan(&one)
		switch {
		case err == nil:
			head = false
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("check group: %w", err)
		}
	}
	if body == nil {
		body = []byte{}
	}
	if _, err := ins.in.ExecContext(ctx, ins.q.name, body, group, key, sentAt, visibleAt, head); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	return nil
}

// Receive returns up to max deliverable messages, waiting up to wait for the first one.
// It wakes as soon as a Send, Retry, Delete or Redrive in this process may have made a
// message deliverable, or when the next hidden message's visibility expires.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("receive from %s: max %d must be at least 1", q.name, max)
	}
	deadline := time.Now().Add(wait)
	for {
		woken := q.sig.wait() // taken before the query so a Send after it is not missed
		msgs, next, err := q.receiveOnce(ctx, max)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		sleep := time.Until(deadline)
		if sleep <= 0 {
			return nil, nil
		}
		if next > 0 {
			if d := time.Until(time.Unix(0, next)) + time.Millisecond; d < sleep {
				sleep = d
			}
		}
		sleep = min(sleep, crossProcessRecheck)
		t := time.NewTimer(sleep)
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("receive from %s: %w", q.name, ctx.Err())
		case <-q.b.closed:
			t.Stop()
			return nil, fmt.Errorf("receive from %s: broker closed", q.name)
		}
		t.Stop()
	}
}

// receiveOnce delivers what is deliverable now in one transaction. When nothing is, it
// returns when the next hidden head becomes visible (0 if none).
func (q *Queue) receiveOnce(ctx context.Context, max int) (msgs []queue.Message, next int64, err error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, 0, err
	}
	promoted := false
	err = q.inTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		for len(msgs) < max {
			ids, over, err := q.candidates(ctx, tx, now, max-len(msgs))
			if err != nil {
				return err
			}
			for _, id := range over {
				p, err := q.moveToDead(ctx, tx, id, fmt.Sprintf("exceeded %d receives", q.cfg.MaxReceives), now)
				if err != nil {
					return err
				}
				promoted = promoted || p
			}
			if q.cfg.FIFO {
				more, err := q.followers(ctx, tx, ids, now, max-len(msgs)-len(ids))
				if err != nil {
					return err
				}
				ids = append(ids, more...)
			}
			got, err := q.deliver(ctx, tx, ids, now, nonce)
			if err != nil {
				return err
			}
			msgs = append(msgs, got...)
			if len(over) == 0 {
				break // nothing was dead-lettered, so nothing new can have become deliverable
			}
		}
		if len(msgs) == 0 {
			var n sql.NullInt64
			if err := q.queryRow(ctx, tx, sqlNextVisible, q.name, now).Scan(&n); err != nil {
				return fmt.Errorf("next visible: %w", err)
			}
			next = n.Int64
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("receive from %s: %w", q.name, err)
	}
	if promoted {
		q.sig.wake()
	}
	// RETURNING has no defined order; ids grow with send order.
	sort.Slice(msgs, func(i, j int) bool {
		a, b := msgs[i].ID, msgs[j].ID
		return len(a) < len(b) || (len(a) == len(b) && a < b)
	})
	return msgs, next, nil
}

// followers extends each delivered FIFO head with the messages queued right behind it in
// its group, in order, as SQS FIFO hands a consumer several messages of one group in one
// receive: one store's pending pushes then go out in one batch. The run stops at the first
// message that is not ready (in flight, delayed, or due for the dead-letter store), so
// order within the group holds; the group stays blocked until its head is deleted.
func (q *Queue) followers(ctx context.Context, tx *sql.Tx, heads []int64, now int64, budget int) ([]int64, error) {
	var out []int64
	for _, head := range heads {
		if budget <= 0 {
			break
		}
		rows, err := q.query(ctx, tx, sqlFollowers, q.name, head, head, budget)
		if err != nil {
			return nil, fmt.Errorf("select followers: %w", err)
		}
		for rows.Next() {
			var id, visibleAt int64
			var count, inFlight int
			if err := rows.Scan(&id, &count, &inFlight, &visibleAt); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan followers: %w", err)
			}
			if inFlight != 0 || visibleAt > now || (q.cfg.MaxReceives > 0 && count >= q.cfg.MaxReceives) {
				break
			}
			out = append(out, id)
			budget--
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("select followers: %w", err)
		}
	}
	return out, nil
}

// candidates lists visible heads, split into deliverable ids and ids over MaxReceives.
func (q *Queue) candidates(ctx context.Context, tx *sql.Tx, now int64, limit int) (ids, over []int64, err error) {
	rows, err := q.query(ctx, tx, sqlCandidates, q.name, now, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("select visible: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var count int
		if err := rows.Scan(&id, &count); err != nil {
			return nil, nil, fmt.Errorf("scan visible: %w", err)
		}
		if q.cfg.MaxReceives > 0 && count >= q.cfg.MaxReceives {
			over = append(over, id)
		} else {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("select visible: %w", err)
	}
	return ids, over, nil
}

// deliver hides ids for the visibility timeout with a fresh receipt each:
// "<id>.<receive count>.<random nonce>", so a receipt names exactly one delivery.
func (q *Queue) deliver(ctx context.Context, tx *sql.Tx, ids []int64, now int64, nonce string) ([]queue.Message, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("mark delivered: %w", err)
	}
	rows, err := q.query(ctx, tx, sqlDeliver, now+int64(q.cfg.VisibilityTimeout), nonce, string(idList))
	if err != nil {
		return nil, fmt.Errorf("mark delivered: %w", err)
	}
	defer rows.Close()
	out := make([]queue.Message, 0, len(ids))
	for rows.Next() {
		var m queue.Message
		var id, sent int64
		if err := rows.Scan(&id, &m.Body, &m.Group, &m.Receipt, &m.Attempts, &sent); err != nil {
			return nil, fmt.Errorf("scan delivered: %w", err)
		}
		m.ID = strconv.FormatInt(id, 10)
		m.SentAt = time.Unix(0, sent).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mark delivered: %w", err)
	}
	return out, nil
}

// Delete acknowledges the delivery named by receipt.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	id, ok := receiptID(receipt)
	if !ok {
		return fmt.Errorf("delete from %s: %w", q.name, queue.ErrUnknownReceipt)
	}
	promoted := false
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		var grp string
		var head bool
		err := q.queryRow(ctx, tx, sqlDelete, id, q.name, receipt).Scan(&grp, &head)
		if errors.Is(err, sql.ErrNoRows) {
			return queue.ErrUnknownReceipt
		}
		if err != nil {
			return err
		}
		promoted, err = q.promote(ctx, tx, grp, head)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete from %s: %w", q.name, err)
	}
	if promoted {
		q.sig.wake()
	}
	return nil
}

// Retry gives the message back: visible again after delay, with a new receipt on the
// next delivery. The old receipt stops working, since a waiting message may have
// absorbed newer sends with the same Key.
func (q *Queue) Retry(ctx context.Context, receipt string, delay time.Duration) error {
	id, ok := receiptID(receipt)
	if !ok {
		return fmt.Errorf("retry on %s: %w", q.name, queue.ErrUnknownReceipt)
	}
	res, err := q.b.db.ExecContext(ctx, `UPDATE messages SET visible_at = ?, in_flight = 0, receipt = NULL
		WHERE id = ? AND queue = ? AND receipt = ?`, time.Now().Add(max(delay, 0)).UnixNano(), id, q.name, receipt)
	if err != nil {
		return fmt.Errorf("retry on %s: %w", q.name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("retry on %s: %w", q.name, queue.ErrUnknownReceipt)
	}
	q.sig.wake() // waiters recompute when to look next
	return nil
}

// DeadLetter moves a received message to the dead-letter table with reason.
func (q *Queue) DeadLetter(ctx context.Context, msg queue.Message, reason string) error {
	id, ok := receiptID(msg.Receipt)
	if !ok {
		return fmt.Errorf("dead-letter on %s: %w", q.name, queue.ErrUnknownReceipt)
	}
	promoted := false
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := q.queryRow(ctx, tx, sqlHasReceipt,
			id, q.name, msg.Receipt).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return queue.ErrUnknownReceipt
		}
		if err != nil {
			return err
		}
		promoted, err = q.moveToDead(ctx, tx, id, reason, time.Now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("dead-letter on %s: %w", q.name, err)
	}
	if promoted {
		q.sig.wake()
	}
	return nil
}

// moveToDead copies a message to dead_letters and removes it; it reports whether a new
// group head was promoted.
func (q *Queue) moveToDead(ctx context.Context, tx *sql.Tx, id int64, reason string, now int64) (bool, error) {
	if _, err := q.exec(ctx, tx, sqlCopyDead, reason, now, id); err != nil {
		return false, fmt.Errorf("copy to dead letters: %w", err)
	}
	var grp string
	var head bool
	if err := q.queryRow(ctx, tx, sqlRemoveDead, id).Scan(&grp, &head); err != nil {
		return false, fmt.Errorf("remove dead message: %w", err)
	}
	return q.promote(ctx, tx, grp, head)
}

// promote makes the oldest remaining message of a FIFO group its head after the head left.
func (q *Queue) promote(ctx context.Context, tx *sql.Tx, grp string, wasHead bool) (bool, error) {
	if !q.cfg.FIFO || !wasHead {
		return false, nil
	}
	res, err := q.exec(ctx, tx, sqlPromote, q.name, grp)
	if err != nil {
		return false, fmt.Errorf("promote group head: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// txStmt binds the broker's prepared statement for query to tx.
func (q *Queue) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	// Never prepare on the DB here: its one connection is busy with tx.
	if s := q.b.stmt(query); s != nil {
		return tx.StmtContext(ctx, s), nil
	}
	s, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return s, nil
}

func (q *Queue) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	s, err := q.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (q *Queue) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	s, err := q.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (q *Queue) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	s, err := q.txStmt(ctx, tx, query)
	if err != nil {
		return tx.QueryRowContext(ctx, query, args...) // reports the same error through Scan
	}
	return s.QueryRowContext(ctx, args...)
}

func (q *Queue) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := q.b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func receiptID(receipt string) (int64, bool) {
	idPart, _, ok := strings.Cut(receipt, ".")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	return id, err == nil
}

func newNonce() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("receipt nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
