// Package sqs implements the queue port on Amazon SQS (aws-sdk-go-v2), for standard and
// FIFO queues, each paired with a dead-letter queue (see CreateQueuePair).
//
// Differences from the embedded queue that callers should know:
//   - FIFO deduplication: MessageDeduplicationId is the SHA-256 of the body, so a body
//     sent again within SQS's 5-minute window is dropped even after the first copy was
//     deleted. Bodies must therefore differ when the work differs (e.g. carry a version).
//   - Standard queues do not coalesce Keys; FIFO queues ignore Delay.
//   - Receipts: SQS rejects malformed handles (queue.ErrUnknownReceipt) but may accept a
//     stale one; deleting with an old handle of a re-delivered message may or may not delete.
//   - The dead-letter queue can only be peeked: ListDead receives and releases at once.
package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/ponte-hub/ponte/internal/queue"
)

// Queue is an SQS queue and its dead-letter queue. It implements queue.Queue.
type Queue struct {
	client  *sqs.Client
	url     string
	dlq     string
	fifo    bool
	dlqFIFO bool
}

var _ queue.Queue = (*Queue)(nil)

// New wraps the queue at queueURL; it is FIFO when the URL ends in ".fifo".
func New(client *sqs.Client, queueURL, deadLetterURL string) *Queue {
	return &Queue{
		client: client, url: queueURL, dlq: deadLetterURL,
		fifo: strings.HasSuffix(queueURL, ".fifo"), dlqFIFO: strings.HasSuffix(deadLetterURL, ".fifo"),
	}
}

// Name is the queue name, the last element of its URL.
func (q *Queue) Name() string { return q.url[strings.LastIndex(q.url, "/")+1:] }

// systemAttrs are the attributes every receive asks for.
var systemAttrs = []types.MessageSystemAttributeName{
	types.MessageSystemAttributeNameApproximateReceiveCount,
	types.MessageSystemAttributeNameSentTimestamp,
	types.MessageSystemAttributeNameMessageGroupId,
}

// Send sends in batches of 10. Bodies must be text (SQS accepts XML-safe Unicode only).
func (q *Queue) Send(ctx context.Context, msgs ...queue.OutMessage) error {
	entries := make([]types.SendMessageBatchRequestEntry, 0, len(msgs))
	for i, m := range msgs {
		e := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body))}
		if q.fifo {
			if m.Group == "" {
				return fmt.Errorf("send to %s: message %d has no group, which a FIFO queue needs", q.Name(), i)
			}
			e.MessageGroupId = aws.String(m.Group)
			e.MessageDeduplicationId = aws.String(bodyHash(m.Body))
			if m.DedupID != "" {
				e.MessageDeduplicationId = aws.String(dedupID(m.DedupID))
			}
		} else if m.Delay > 0 {
			e.DelaySeconds = ceilSeconds(m.Delay, 900)
		}
		entries = append(entries, e)
	}
	for start := 0; start < len(entries); start += 10 {
		chunk := entries[start:min(start+10, len(entries))]
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: chunk})
		if err != nil {
			return fmt.Errorf("send %d messages to %s: %w", len(chunk), q.Name(), err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("send to %s: %d of %d messages failed, first: %s %s",
				q.Name(), len(out.Failed), len(chunk), aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return nil
}

// Receive long-polls for up to wait (rounded up to whole seconds, at most 20) and then
// keeps taking batches of 10 only while full batches come back at once.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("receive from %s: max %d must be at least 1", q.Name(), max)
	}
	waitSec := ceilSeconds(wait, 20)
	var out []queue.Message
	for len(out) < max {
		n := int32(min(10, max-len(out)))
		res, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &q.url, MaxNumberOfMessages: n, WaitTimeSeconds: waitSec,
			MessageSystemAttributeNames: systemAttrs,
		})
		if err != nil {
			return out, fmt.Errorf("receive from %s: %w", q.Name(), err)
		}
		for _, m := range res.Messages {
			out = append(out, toMessage(m))
		}
		if len(res.Messages) < int(n) {
			break
		}
		waitSec = 0
	}
	return out, nil
}

func toMessage(m types.Message) queue.Message {
	attempts, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return queue.Message{
		ID: aws.ToString(m.MessageId), Body: []byte(aws.ToString(m.Body)), Receipt: aws.ToString(m.ReceiptHandle),
		Group:    m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
		Attempts: attempts,
		SentAt:   millis(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)]),
	}
}

// Delete deletes the message. SQS reports only malformed or unknown handles.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &receipt})
	if err != nil {
		return fmt.Errorf("delete from %s: %w", q.Name(), receiptErr(err))
	}
	return nil
}

// Retry sets the message's visibility timeout to delay (whole seconds, at most 12 h).
func (q *Queue) Retry(ctx context.Context, receipt string, delay time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &q.url, ReceiptHandle: &receipt, VisibilityTimeout: ceilSeconds(delay, 43200),
	})
	if err != nil {
		return fmt.Errorf("retry on %s: %w", q.Name(), receiptErr(err))
	}
	return nil
}

// receiptErr maps SQS's receipt errors to queue.ErrUnknownReceipt, keeping the cause.
func receiptErr(err error) error {
	var invalid *types.ReceiptHandleIsInvalid
	var notInFlight *types.MessageNotInflight
	var api smithy.APIError
	if errors.As(err, &invalid) || errors.As(err, &notInFlight) ||
		(errors.As(err, &api) && strings.Contains(api.ErrorCode(), "ReceiptHandleIsInvalid")) {
		return fmt.Errorf("%w: %w", queue.ErrUnknownReceipt, err)
	}
	return err
}

// dedupID fits a caller's id to SQS's rule (at most 128 characters of a limited set)
// by hashing any id that does not already fit.
func dedupID(id string) string {
	if len(id) <= 128 && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "" {
		return id
	}
	return bodyHash([]byte(id))
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// ceilSeconds rounds d up to whole seconds within [0, limit].
func ceilSeconds(d time.Duration, limit int32) int32 {
	if d <= 0 {
		return 0
	}
	return int32(min(math.Ceil(d.Seconds()), float64(limit)))
}

func millis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
