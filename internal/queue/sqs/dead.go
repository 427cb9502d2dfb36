package sqs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ponte-hub/ponte/internal/queue"
)

// Message attributes that carry a dead message's story in the DLQ.
const (
	attrReason   = "ponte-reason"
	attrAttempts = "ponte-attempts"
	attrSource   = "ponte-source-queue"
	attrSentAt   = "ponte-sent-at"
	attrDeadAt   = "ponte-dead-at"
	// attrSourceID is the message's id in its source queue: a DLQ copy gets a new
	// MessageId, and the dead message keeps the source's (see deadID).
	attrSourceID = "ponte-source-id"
)

// policyReason names messages that SQS itself moved after maxReceiveCount.
const policyReason = "exceeded maxReceiveCount (moved by the SQS redrive policy)"

// peekVisibility hides DLQ messages while ListDead or Redrive walks the queue, so each
// receive returns new ones; they are released (or deleted) right after.
const peekVisibility = 30

// DeadLetter sends the message to the DLQ with its reason and attempts, then deletes it
// from the source. If the delete fails, the DLQ may hold a copy of a live message.
func (q *Queue) DeadLetter(ctx context.Context, msg queue.Message, reason string) error {
	if reason == "" {
		reason = "no reason given" // SQS rejects empty attribute values
	}
	now := time.Now().UTC()
	in := &sqs.SendMessageInput{
		QueueUrl: &q.dlq, MessageBody: aws.String(string(msg.Body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			attrReason:   stringAttr(reason),
			attrAttempts: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(msg.Attempts))},
			attrSource:   stringAttr(q.url),
			attrSentAt:   stringAttr(msg.SentAt.UTC().Format(time.RFC3339Nano)),
			attrDeadAt:   stringAttr(now.Format(time.RFC3339Nano)),
			attrSourceID: stringAttr(msg.ID),
		},
	}
	if q.dlqFIFO {
		in.MessageGroupId = aws.String(groupOr(msg.Group))
		// The source message id: a retried DeadLetter of the same message collapses.
		in.MessageDeduplicationId = aws.String(msg.ID)
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("dead-letter %s from %s: %w", msg.ID, q.Name(), err)
	}
	if err := q.Delete(ctx, msg.Receipt); err != nil {
		return fmt.Errorf("dead-letter %s: copied to the DLQ but: %w", msg.ID, err)
	}
	return nil
}

// ListDead peeks at up to limit DLQ messages (100 when limit <= 0): SQS cannot list a
// queue, so it receives them and releases them at once. Oldest death first.
func (q *Queue) ListDead(ctx context.Context, limit int) ([]queue.DeadMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	var seen []types.Message
	defer func() { q.release(context.WithoutCancel(ctx), seen) }()
	for len(seen) < limit {
		got, err := q.receiveDead(ctx, min(10, limit-len(seen)), 1)
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			break
		}
		seen = append(seen, got...)
	}
	out := make([]queue.DeadMessage, 0, len(seen))
	for _, m := range seen {
		out = append(out, toDead(m))
	}
	slices.SortStableFunc(out, func(a, b queue.DeadMessage) int { return a.DeadAt.Compare(b.DeadAt) })
	return out, nil
}

// Redrive moves DLQ messages back to the source (send, then delete from the DLQ),
// only those whose id is in ids when ids is not empty. Others seen on the way are
// released. On a FIFO DLQ a kept message holds back later ones of its group until then.
func (q *Queue) Redrive(ctx context.Context, ids []string) (int, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var kept []types.Message
	defer func() { q.release(context.WithoutCancel(ctx), kept) }()
	moved := 0
	for len(ids) == 0 || len(want) > 0 {
		got, err := q.receiveDead(ctx, 10, 1)
		if err != nil {
			return moved, err
		}
		if len(got) == 0 {
			break
		}
		for _, m := range got {
			id := deadID(m)
			if len(ids) > 0 && !want[id] {
				kept = append(kept, m)
				continue
			}
			in := &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: m.Body}
			if q.fifo {
				in.MessageGroupId = aws.String(groupOr(m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]))
				// Not the body hash: the body was sent within the dedup window, likely.
				in.MessageDeduplicationId = m.MessageId
			}
			if _, err := q.client.SendMessage(ctx, in); err != nil {
				return moved, fmt.Errorf("redrive %s to %s: %w", id, q.Name(), err)
			}
			if _, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.dlq, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, fmt.Errorf("redrive %s: sent back but not deleted from the DLQ: %w", id, err)
			}
			delete(want, id)
			moved++
		}
	}
	return moved, nil
}

// TakeDead receives DLQ messages in batches of 10, hands each batch to file and deletes
// it from the DLQ once filed (a batch file refuses is released at once). It short-polls,
// so it costs one quick request when the DLQ is empty; on real SQS a short poll samples
// some servers only and may leave messages for the next call.
func (q *Queue) TakeDead(ctx context.Context, max int, file func(context.Context, []queue.DeadMessage) error) (int, error) {
	if max < 1 {
		return 0, fmt.Errorf("take dead of %s: max %d must be at least 1", q.Name(), max)
	}
	taken := 0
	for taken < max {
		got, err := q.receiveDead(ctx, min(10, max-taken), 0)
		if err != nil || len(got) == 0 {
			return taken, err
		}
		dead := make([]queue.DeadMessage, len(got))
		for i, m := range got {
			dead[i] = toDead(m)
		}
		if err := file(ctx, dead); err != nil {
			q.release(context.WithoutCancel(ctx), got)
			return taken, fmt.Errorf("take dead of %s: %w", q.Name(), err)
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, len(got))
		for i, m := range got {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		res, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q.dlq, Entries: entries})
		if err != nil {
			return taken, fmt.Errorf("take dead of %s: filed but not deleted from the DLQ: %w", q.Name(), err)
		}
		taken += len(res.Successful)
		if len(res.Failed) > 0 {
			f := res.Failed[0]
			return taken, fmt.Errorf("take dead of %s: %d filed but not deleted from the DLQ, first: %s %s",
				q.Name(), len(res.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return taken, nil
}

// receiveDead polls the DLQ for wait seconds: ListDead and Redrive long-poll one second,
// as a short poll may miss messages on real SQS.
func (q *Queue) receiveDead(ctx context.Context, n int, wait int32) ([]types.Message, error) {
	res, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &q.dlq, MaxNumberOfMessages: int32(n), WaitTimeSeconds: wait, VisibilityTimeout: peekVisibility,
		MessageSystemAttributeNames: systemAttrs, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from dead-letter queue of %s: %w", q.Name(), err)
	}
	return res.Messages, nil
}

// release makes peeked DLQ messages visible again at once; failures only delay them
// by peekVisibility, so they are not reported.
func (q *Queue) release(ctx context.Context, msgs []types.Message) {
	for start := 0; start < len(msgs); start += 10 {
		var entries []types.ChangeMessageVisibilityBatchRequestEntry
		for i, m := range msgs[start:min(start+10, len(msgs))] {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
			})
		}
		_, _ = q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.dlq, Entries: entries})
	}
}

func toDead(m types.Message) queue.DeadMessage {
	base := toMessage(m)
	d := queue.DeadMessage{ID: deadID(m), Body: base.Body, Group: base.Group, SentAt: base.SentAt, Reason: policyReason}
	attr := func(name string) (string, bool) {
		v, ok := m.MessageAttributes[name]
		return aws.ToString(v.StringValue), ok
	}
	if r, ok := attr(attrReason); ok {
		d.Reason = r
	}
	// Moved by the redrive policy: the DLQ's receive count carries over from the
	// source, minus this peek.
	d.Attempts = max(base.Attempts-1, 0)
	if a, ok := attr(attrAttempts); ok {
		d.Attempts, _ = strconv.Atoi(a)
	}
	if s, ok := attr(attrSentAt); ok {
		d.SentAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	if s, ok := attr(attrDeadAt); ok {
		d.DeadAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	return d
}

// deadID is a DLQ message's id in its source queue: the id DeadLetter recorded, or its
// own MessageId when the redrive policy moved it (SQS keeps the id on such moves).
func deadID(m types.Message) string {
	if v, ok := m.MessageAttributes[attrSourceID]; ok && aws.ToString(v.StringValue) != "" {
		return aws.ToString(v.StringValue)
	}
	return aws.ToString(m.MessageId)
}

// Stats reads SQS's approximate counters; OldestAge is unknown (-1).
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	st := queue.Stats{Name: q.Name(), OldestAge: -1}
	src, err := q.counts(ctx, q.url)
	if err != nil {
		return st, err
	}
	dead, err := q.counts(ctx, q.dlq)
	if err != nil {
		return st, err
	}
	st.Waiting = src[0] + src[2]
	st.InFlight = src[1]
	st.Dead = dead[0] + dead[1] + dead[2]
	return st, nil
}

// counts returns visible, not visible (in flight) and delayed counts.
func (q *Queue) counts(ctx context.Context, url string) ([3]int64, error) {
	names := []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	res, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
	if err != nil {
		return [3]int64{}, fmt.Errorf("stats of %s: %w", url, err)
	}
	var out [3]int64
	for i, n := range names {
		out[i], _ = strconv.ParseInt(res.Attributes[string(n)], 10, 64)
	}
	return out, nil
}

func stringAttr(s string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
}

// groupOr keeps a FIFO group; a message without one (from a standard source) gets a fixed group.
func groupOr(g string) string {
	if g == "" {
		return "ponte-dead"
	}
	return g
}
