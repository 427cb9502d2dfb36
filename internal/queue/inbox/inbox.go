// Package inbox is the failure inbox: every dead letter of every queue filed in the
// store's dead-letter index under its tenant and connection, so the operator's API finds,
// counts and retries one tenant's (or one connection's) failures however many other
// tenants' share the queue.
//
// The index holds the whole message, and it is the inbox's source of truth on both
// backends. A queue's own dead-letter store (the SQLite table, the SQS DLQ) is where
// messages land; Collect files what landed there and removes it. Writes are ordered so a
// crash never hides a failure:
//
//   - A worker's DeadLetter (through Wrap) files the message first, then moves it to the
//     queue's dead-letter store. A crash in between leaves the message in its queue, to be
//     delivered again: the row is then stale (the retry succeeded) or filed again under the
//     same id (the message keeps its id across deliveries), never missing.
//   - Messages that reach the dead-letter store without the worker (the queue's own
//     receive limit, SQS's redrive policy, a filing that failed) are filed by Collect,
//     which every listing, count and retry runs first; Collect files, then removes, so a
//     crash in between files the same id again (one row).
//   - Retry sends the message back, then deletes its row: a crash in between leaves a row
//     whose message was already sent, a duplicate at worst (messages carry keys, never
//     values, so running one twice pushes the same newest state).
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// Index is the store's dead-letter index.
type Index interface {
	store.DeadLetterStore
}

// Keys are the keys every queue body carries in some combination: push messages
// (tenant, connection, sku/customer), fan-out messages (tenant, sku), order messages
// (tenant, connection, delivery/order) and event deliveries (tenant, endpoint).
type Keys struct {
	Tenant     string `json:"tenant"`
	Connection string `json:"connection"`
	Kind       string `json:"kind"`
	SKU        string `json:"sku"`
	Customer   string `json:"customer"`
	Order      string `json:"order"`
	Delivery   string `json:"delivery"`
	Endpoint   string `json:"endpoint"`
	EventID    string `json:"event_id"`
}

// KeysOf decodes a body's keys; a body that is not a JSON object has none (no tenant,
// so it is filed under the empty tenant, which no caller is).
func KeysOf(body []byte) Keys {
	var k Keys
	_ = json.Unmarshal(body, &k)
	return k
}

// collectBatch is how many dead messages one TakeDead hands over; collectPerQueue bounds
// one Collect per queue, so a listing answers even while a flood lands (the next call
// files the rest).
const (
	collectBatch    = 100
	collectPerQueue = 2000
	retryPage       = 100
)

// Inbox files, lists, counts and retries dead letters.
type Inbox struct {
	Index Index
	// Queues are every queue by name, as the rows name them.
	Queues map[string]queue.Queue
	Log    *slog.Logger
}

// row is the index row of a dead message of queueName.
func row(queueName string, d queue.DeadMessage) store.DeadLetter {
	k := KeysOf(d.Body)
	return store.DeadLetter{Tenant: k.Tenant, Connection: k.Connection, Queue: queueName, ID: d.ID,
		Reason: d.Reason, Attempts: d.Attempts, SentAt: d.SentAt.UTC(), DeadAt: d.DeadAt.UTC(), Group: d.Group, Body: d.Body}
}

// Wrap returns q whose DeadLetter files the message in the index before moving it to
// q's dead-letter store; every other method is q's.
func (b *Inbox) Wrap(q queue.Queue) queue.Queue { return &filingQueue{Queue: q, inbox: b} }

type filingQueue struct {
	queue.Queue
	inbox *Inbox
}

// DeadLetter files, then moves. A failed filing is logged and the move goes on: the
// message then waits in the dead-letter store for Collect, visible at the next listing.
func (f *filingQueue) DeadLetter(ctx context.Context, msg queue.Message, reason string) error {
	d := row(f.Name(), queue.DeadMessage{ID: msg.ID, Body: msg.Body, Group: msg.Group, Reason: reason,
		Attempts: msg.Attempts, SentAt: msg.SentAt, DeadAt: time.Now()})
	if err := f.inbox.Index.PutDeadLetter(ctx, d); err != nil {
		f.inbox.Log.Error("filing a dead letter failed; the next listing files it from the queue's dead letters",
			"queue", f.Name(), "message_id", msg.ID, "err", err)
	}
	if err := f.Queue.DeadLetter(ctx, msg, reason); err != nil {
		return fmt.Errorf("dead-letter %s on %s: %w", msg.ID, f.Name(), err)
	}
	return nil
}

// Collect files what waits in every queue's own dead-letter store and removes it there;
// it returns how many it filed. Every queue is tried; the errors are joined.
func (b *Inbox) Collect(ctx context.Context) (int, error) {
	names := make([]string, 0, len(b.Queues))
	for name := range b.Queues {
		names = append(names, name)
	}
	sort.Strings(names)
	total := 0
	var errs []error
	for _, name := range names {
		q := b.Queues[name]
		file := func(ctx context.Context, dead []queue.DeadMessage) error {
			for _, d := range dead {
				if d.DeadAt.IsZero() {
					d.DeadAt = time.Now() // moved by a policy that stamps no time
				}
				if err := b.Index.PutDeadLetter(ctx, row(name, d)); err != nil {
					return fmt.Errorf("file %s: %w", d.ID, err)
				}
			}
			return nil
		}
		for taken := 0; taken < collectPerQueue; {
			n, err := q.TakeDead(ctx, collectBatch, file)
			taken += n
			total += n
			if err != nil {
				errs = append(errs, fmt.Errorf("collect dead letters of %s: %w", name, err))
				break
			}
			if n == 0 {
				break
			}
		}
	}
	return total, errors.Join(errs...)
}

// collect runs Collect before a read; a failure is logged, not returned: the index still
// answers, and what could not be filed now is filed by the next call.
func (b *Inbox) collect(ctx context.Context) {
	if n, err := b.Collect(ctx); err != nil {
		b.Log.Warn("collecting dead letters failed; the index answers without them until the next call", "filed", n, "err", err)
	}
}

// List pages through a tenant's dead letters, newest first (see store.DeadLetterStore).
func (b *Inbox) List(ctx context.Context, tenant string, f store.DeadLetterFilter, cursor string, limit int) ([]store.DeadLetter, string, error) {
	b.collect(ctx)
	rows, next, err := b.Index.ListDeadLetters(ctx, tenant, f, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list failures of %s: %w", tenant, err)
	}
	return rows, next, nil
}

// Count counts a tenant's dead letters exactly, per queue and connection.
func (b *Inbox) Count(ctx context.Context, tenant string) ([]store.DeadLetterCount, error) {
	b.collect(ctx)
	counts, err := b.Index.CountDeadLetters(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("count failures of %s: %w", tenant, err)
	}
	return counts, nil
}

// NotFoundError names an id RetryIDs found no failure of the tenant for.
type NotFoundError struct{ Queue, ID string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no failure %q in queue %s", e.ID, e.Queue)
}

// RetryIDs sends the tenant's failures ids of queueName back to their queue. Every id is
// checked first: one that is not the tenant's fails the call (a *NotFoundError) with
// nothing sent.
func (b *Inbox) RetryIDs(ctx context.Context, tenant, queueName string, ids []string) (int, error) {
	b.collect(ctx)
	rows := make([]store.DeadLetter, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := b.Index.GetDeadLetter(ctx, tenant, queueName, id)
		if errors.Is(err, store.ErrNotFound) {
			return 0, &NotFoundError{Queue: queueName, ID: id}
		}
		if err != nil {
			return 0, fmt.Errorf("retry failures of %s: %w", tenant, err)
		}
		rows = append(rows, d)
	}
	return b.retry(ctx, tenant, rows)
}

// RetryWhere sends every failure of the tenant matching f back, page by page. Rows filed
// while it runs (a retried message dying again) are newer than its walk and stay.
func (b *Inbox) RetryWhere(ctx context.Context, tenant string, f store.DeadLetterFilter) (int, error) {
	b.collect(ctx)
	moved := 0
	cursor := ""
	for {
		rows, next, err := b.Index.ListDeadLetters(ctx, tenant, f, cursor, retryPage)
		if err != nil {
			return moved, fmt.Errorf("retry failures of %s: %w", tenant, err)
		}
		n, err := b.retry(ctx, tenant, rows)
		moved += n
		if err != nil || next == "" {
			return moved, err
		}
		cursor = next
	}
}

// retry sends rows back to their queues (oldest first), then deletes their rows.
func (b *Inbox) retry(ctx context.Context, tenant string, rows []store.DeadLetter) (int, error) {
	byQueue := map[string][]store.DeadLetter{}
	for _, d := range rows {
		byQueue[d.Queue] = append(byQueue[d.Queue], d)
	}
	names := make([]string, 0, len(byQueue))
	for name := range byQueue {
		names = append(names, name)
	}
	sort.Strings(names)
	moved := 0
	for _, name := range names {
		q, ok := b.Queues[name]
		if !ok {
			b.Log.Warn("failures of a queue this hub no longer has are kept", "tenant", tenant, "queue", name, "count", len(byQueue[name]))
			continue
		}
		group := byQueue[name]
		sort.SliceStable(group, func(i, j int) bool { return group[i].DeadAt.Before(group[j].DeadAt) })
		msgs := make([]queue.OutMessage, len(group))
		for i, d := range group {
			// The dead letter's id as FIFO dedup id: a body sent minutes ago still goes
			// out, and the same row sent twice (a retry after a crash) goes out once.
			msgs[i] = queue.OutMessage{Body: d.Body, Group: d.Group, DedupID: "retry-" + d.ID}
		}
		if err := q.Send(ctx, msgs...); err != nil {
			return moved, fmt.Errorf("retry failures of %s on %s: %w", tenant, name, err)
		}
		for _, d := range group {
			if err := b.Index.DeleteDeadLetter(ctx, tenant, d.Queue, d.ID); err != nil {
				return moved, fmt.Errorf("retry failures of %s on %s: sent, but: %w", tenant, name, err)
			}
			moved++
		}
	}
	return moved, nil
}
