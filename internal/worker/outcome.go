// Package worker runs queue handlers: locally as a receive loop over any queue.Queue, and
// on Lambda as an SQS event handler with partial batch responses. Both apply the same
// outcome rules: success deletes, a retryable failure waits with backoff, a failure past
// the attempt limit or a permanent one goes to the dead-letter store with its reason.
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// Handler processes one message.
type Handler interface {
	Handle(ctx context.Context, msg queue.Message) error
}

// BatchHandler processes several messages at once (for instance one store's pushes in
// one platform call) and returns one result per message, in order.
type BatchHandler interface {
	HandleBatch(ctx context.Context, msgs []queue.Message) []error
}

// Each runs a single-message Handler over a batch, one message after the other.
func Each(h Handler) BatchHandler { return each{h} }

type each struct{ h Handler }

func (e each) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = e.h.Handle(ctx, m)
	}
	return errs
}

// byGroup splits a received batch by message group, keeping order within each group.
// Messages without a group (standard queues) are independent and form one batch.
func byGroup(msgs []queue.Message) [][]queue.Message {
	var out [][]queue.Message
	at := map[string]int{}
	for _, m := range msgs {
		i, ok := at[m.Group]
		if !ok {
			i = len(out)
			at[m.Group] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], m)
	}
	return out
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, msg queue.Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, msg queue.Message) error { return f(ctx, msg) }

// RetryError asks for the message to come back after After (zero: the worker's backoff).
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Retry wraps err as retryable after d (0 lets the worker pick the backoff).
func Retry(after time.Duration, err error) error { return &RetryError{After: after, Err: err} }

// DeadError asks for the message to be dead-lettered now, with a reason for the operator.
type DeadError struct{ Reason string }

func (e *DeadError) Error() string { return "dead-lettered: " + e.Reason }

// Dead builds a DeadError.
func Dead(format string, args ...any) error { return &DeadError{Reason: fmt.Sprintf(format, args...)} }

// Policy bounds retries.
type Policy struct {
	// MaxAttempts deliveries before a retryable failure is dead-lettered.
	MaxAttempts int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// DefaultPolicy: 8 attempts, 1 s doubling to 5 min (about 10 minutes of trying in all).
var DefaultPolicy = Policy{MaxAttempts: 8, BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute}

// Decision is what to do with a handled message.
type Decision struct {
	Delete     bool
	RetryAfter time.Duration
	DeadReason string
}

// Decide maps a handler result to a decision.
func (p Policy) Decide(msg queue.Message, err error) Decision {
	if err == nil {
		return Decision{Delete: true}
	}
	var dead *DeadError
	if errors.As(err, &dead) {
		return Decision{DeadReason: dead.Reason}
	}
	if p.MaxAttempts > 0 && msg.Attempts >= p.MaxAttempts {
		return Decision{DeadReason: fmt.Sprintf("failed %d times; last error: %v", msg.Attempts, err)}
	}
	after := p.Backoff(msg.Attempts)
	var re *RetryError
	if errors.As(err, &re) && re.After > 0 {
		after = re.After
	}
	return Decision{RetryAfter: after}
}

// Backoff is exponential with full jitter over the upper half, so retries of many
// messages spread out instead of hitting the platform together.
func (p Policy) Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := p.BaseBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
