package worker

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ponte-hub/ponte/internal/queue"
)

// SQSBatch handles an SQS event for Lambda and answers a partial batch response, so only
// failed messages come back. Retry delays and dead-lettering go through Queue (the SQS
// adapter for the event's source queue), which lets a message wait for the platform's hint
// instead of the queue's fixed visibility timeout.
type SQSBatch struct {
	Queue   queue.Queue
	Handler BatchHandler
	Policy  Policy
	// FIFO returns a failed message and every later message of its group, keeping
	// per-group order (what Powertools calls skipGroupOnError).
	FIFO bool
	Log  *slog.Logger
	// Retries counts every message handed back for a retry, by queue name. A retried
	// message is not a failed invocation, so Lambda's Errors metric never sees it: this
	// counter (flushed as an EMF line) is what the retry alarm watches. Nil counts nothing.
	Retries Counter
}

// RetryMetric counts retried messages, labelled RetryMetricQueueLabel with the queue's
// name; on Lambda it reaches CloudWatch as an EMF metric of that name and dimension.
const (
	RetryMetric           = "ponte_message_retries_total"
	RetryMetricQueueLabel = "queue"
)

// Counter is the part of a metrics counter the worker needs (metrics.Counter).
type Counter interface {
	Inc(labelValues ...string)
}

// Handle is the Lambda entry point.
func (b *SQSBatch) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	msgs := make([]queue.Message, len(ev.Records))
	for i, rec := range ev.Records {
		msgs[i] = FromSQSRecord(rec)
	}
	errs := b.Handler.HandleBatch(ctx, msgs)
	var resp events.SQSEventResponse
	failedGroups := map[string]bool{}
	for i, m := range msgs {
		if b.FIFO && failedGroups[m.Group] {
			// A later message of a group that failed must come back after it, not before.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
			continue
		}
		if b.settle(ctx, m, errs[i]) {
			continue
		}
		failedGroups[m.Group] = true
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
	}
	return resp, nil
}

// settle applies the policy; it reports whether the message is done with (deleted by
// Lambda on success, or moved to the dead-letter queue).
func (b *SQSBatch) settle(ctx context.Context, m queue.Message, err error) bool {
	d := b.Policy.Decide(m, err)
	switch {
	case d.Delete:
		return true
	case d.DeadReason != "":
		b.Log.Warn("message dead-lettered", "message_id", m.ID, "attempts", m.Attempts, "reason", d.DeadReason)
		derr := b.Queue.DeadLetter(ctx, m, d.DeadReason)
		if derr == nil {
			return true
		}
		b.Log.Error("dead-letter failed; leaving message to the redrive policy", "message_id", m.ID, "err", derr)
	default:
		// Logged at warn with its error: on Lambda nothing else records that it failed.
		b.Log.Warn("message retry scheduled", "queue", b.Queue.Name(), "message_id", m.ID, "attempts", m.Attempts,
			"after", d.RetryAfter.String(), "err", err)
		if b.Retries != nil {
			b.Retries.Inc(b.Queue.Name())
		}
		if rerr := b.Queue.Retry(ctx, m.Receipt, d.RetryAfter); rerr != nil {
			b.Log.Error("visibility change failed", "message_id", m.ID, "err", rerr)
		}
	}
	return false
}

// FromSQSRecord converts a Lambda SQS record to a queue.Message.
func FromSQSRecord(rec events.SQSMessage) queue.Message {
	attempts, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if attempts < 1 {
		attempts = 1
	}
	var sent time.Time
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil {
		sent = time.UnixMilli(ms).UTC()
	}
	return queue.Message{
		ID:       rec.MessageId,
		Body:     []byte(rec.Body),
		Group:    rec.Attributes["MessageGroupId"],
		Receipt:  rec.ReceiptHandle,
		Attempts: attempts,
		SentAt:   sent,
	}
}
