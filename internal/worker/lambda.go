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
	Handler Handler
	Policy  Policy
	// FIFO stops at the first failure and returns it and every later message, keeping
	// per-group order (AWS's documented rule for FIFO sources).
	FIFO bool
	Log  *slog.Logger
}

// Handle is the Lambda entry point.
func (b *SQSBatch) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for i, rec := range ev.Records {
		m := FromSQSRecord(rec)
		err := b.Handler.Handle(ctx, m)
		d := b.Policy.Decide(m, err)
		switch {
		case d.Delete:
			continue
		case d.DeadReason != "":
			b.Log.Warn("message dead-lettered", "message_id", m.ID, "attempts", m.Attempts, "reason", d.DeadReason)
			if derr := b.Queue.DeadLetter(ctx, m, d.DeadReason); derr == nil {
				continue
			} else {
				b.Log.Error("dead-letter failed; leaving message to the redrive policy", "message_id", m.ID, "err", derr)
			}
		default:
			if rerr := b.Queue.Retry(ctx, m.Receipt, d.RetryAfter); rerr != nil {
				b.Log.Error("visibility change failed", "message_id", m.ID, "err", rerr)
			}
		}
		if b.FIFO {
			for _, later := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: later.MessageId})
			}
			return resp, nil
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
	}
	return resp, nil
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
