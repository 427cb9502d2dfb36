// Package queue declares the Queue port: durable at-least-once delivery with visibility
// timeouts, receive counts, message groups (one in flight per group) and a dead-letter
// store with readable reasons. Implementations: sqlite/ (embedded) and sqs/ (AWS);
// queuetest/ is the contract suite both must pass.
package queue

import (
	"context"
	"errors"
	"time"
)

// ErrUnknownReceipt: the receipt handle is unknown or no longer valid (message deleted or re-delivered).
var ErrUnknownReceipt = errors.New("unknown or expired receipt")

// OutMessage is a message to send.
type OutMessage struct {
	Body []byte
	// Group orders and serialises delivery: at most one message of a group is in flight
	// at once (SQS FIFO MessageGroupId). Empty on standard queues.
	Group string
	// Key says two messages carry the same work. A queue may drop a send whose Key
	// matches a message still waiting (not in flight); SQS FIFO uses a hash of the body
	// as MessageDeduplicationId instead, so bodies must differ when the work differs.
	Key string
	// Delay postpones the first delivery (ignored by FIFO SQS queues, which have no per-message delay).
	Delay time.Duration
	// DedupID, when set, replaces the body hash as the SQS FIFO MessageDeduplicationId, so
	// a dead letter sent back minutes after the same body was sent is not dropped as a
	// duplicate (two sends with one DedupID within SQS's 5 minutes still are). Queues
	// without a deduplication window ignore it.
	DedupID string
}

// Message is a received message.
type Message struct {
	ID      string
	Body    []byte
	Group   string
	Receipt string
	// Attempts counts deliveries including this one (SQS ApproximateReceiveCount).
	Attempts int
	SentAt   time.Time
}

// DeadMessage is a message moved aside after its work failed for good. Its ID is the id
// the message had in the queue (the same on every redelivery), so the same message
// dead-lettered twice, or filed elsewhere before it reached the dead-letter store,
// keeps one identity.
type DeadMessage struct {
	ID       string    `json:"id"`
	Body     []byte    `json:"body"`
	Group    string    `json:"group,omitempty"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	SentAt   time.Time `json:"sent_at"`
	DeadAt   time.Time `json:"dead_at"`
}

// Stats describe a queue for the operator.
type Stats struct {
	Name     string `json:"name"`
	Waiting  int64  `json:"waiting"`
	InFlight int64  `json:"in_flight"`
	Dead     int64  `json:"dead"`
	// OldestAge is the age of the oldest waiting message; -1 when the backend cannot tell.
	OldestAge time.Duration `json:"oldest_age"`
}

// Queue is the port.
type Queue interface {
	Name() string
	Send(ctx context.Context, msgs ...OutMessage) error
	// Receive returns up to max visible messages, waiting up to wait for the first one,
	// and hides them for the queue's visibility timeout.
	Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error)
	// Delete acknowledges a message.
	Delete(ctx context.Context, receipt string) error
	// Retry makes a received message visible again after delay.
	Retry(ctx context.Context, receipt string, delay time.Duration) error
	// DeadLetter moves a received message to the dead-letter store with a reason.
	DeadLetter(ctx context.Context, msg Message, reason string) error
	// ListDead returns up to limit dead messages, oldest first.
	ListDead(ctx context.Context, limit int) ([]DeadMessage, error)
	// Redrive moves dead messages (all when ids is empty) back to the queue; it returns how many moved.
	Redrive(ctx context.Context, ids []string) (int, error)
	// TakeDead hands up to max dead messages, oldest first, to file, and removes them from
	// the dead-letter store once file returns nil (none when it fails); it returns how many
	// were removed. A crash after file and before the removal hands them out again.
	TakeDead(ctx context.Context, max int, file func(context.Context, []DeadMessage) error) (int, error)
	Stats(ctx context.Context) (Stats, error)
}
