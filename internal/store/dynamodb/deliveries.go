package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// Delivery rows keep Event and Body as binary attributes, byte for byte (inside the JSON
// data Event would be re-compacted and Body base64-inflated), and ProcessedAt/Outcome as
// attributes so marking is one UpdateItem instead of a read-modify-write.
const (
	attrEvent       = "event"
	attrBody        = "body"
	attrProcessedAt = "processed_at"
	attrOutcome     = "outcome"
	skDelivery      = "DLV"
	skCursor        = "CURSOR"
	// pendingGSI is the sparse gsi1 partition of unprocessed deliveries: a row leaves it
	// when marked processed, so the sweeper's query reads only what it may re-queue.
	pendingGSI = "DLV#PENDING"
)

// sortTime is a fixed-width UTC layout, so gsi1 sort keys order as the times do
// (RFC3339Nano trims trailing zeros and would not).
const sortTime = "2006-01-02T15:04:05.000000000Z"

func timeKey(t time.Time) string { return t.UTC().Format(sortTime) }

func deliveryPK(conn, id string) string { return "C#" + esc(conn) + "#DLV#" + esc(id) }
func cursorPK(name string) string       { return "CURSOR#" + esc(name) }

// PutDelivery creates the delivery row unless (connection, id) exists: concurrent
// identical deliveries race on one conditional put and exactly one wins.
func (s *Store) PutDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	if d.ConnectionID == "" || d.ID == "" {
		return false, errors.New("put delivery: connection id and id are required")
	}
	d.ReceivedAt = d.ReceivedAt.UTC()
	extra := map[string]types.AttributeValue{}
	if len(d.Event) > 0 {
		extra[attrEvent] = &types.AttributeValueMemberB{Value: d.Event}
	}
	if len(d.Body) > 0 {
		extra[attrBody] = &types.AttributeValueMemberB{Value: d.Body}
	}
	processed := d.ProcessedAt != nil
	if processed {
		extra[attrProcessedAt] = &types.AttributeValueMemberS{Value: d.ProcessedAt.UTC().Format(time.RFC3339Nano)}
		extra[attrOutcome] = &types.AttributeValueMemberS{Value: d.Outcome}
		extra[attrExpiresAt] = ttlValue(store.DeliveryExpiry(d, s.retention()))
	}
	meta := d
	meta.Event, meta.Body, meta.ProcessedAt, meta.Outcome = nil, nil, nil, ""
	it, err := newItem(deliveryPK(d.ConnectionID, d.ID), skDelivery, 0, meta)
	if err != nil {
		return false, fmt.Errorf("put delivery %s/%s: %w", d.ConnectionID, d.ID, err)
	}
	if !processed {
		it.GSI1PK = pendingGSI
		it.GSI1SK = timeKey(d.ReceivedAt) + "#" + esc(d.ConnectionID) + "#" + esc(d.ID)
	}
	err = s.putRowIf(ctx, it, extra, expression.AttributeNotExists(expression.Name("pk")))
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put delivery %s/%s: %w", d.ConnectionID, d.ID, err)
	}
	return true, nil
}

// GetDelivery reads one delivery strongly consistently.
func (s *Store) GetDelivery(ctx context.Context, connectionID, id string) (store.Delivery, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(deliveryPK(connectionID, id), skDelivery),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s/%s: %w", connectionID, id, err)
	}
	if out.Item == nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s/%s: %w", connectionID, id, store.ErrNotFound)
	}
	d, err := decodeDelivery(out.Item)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s/%s: %w", connectionID, id, err)
	}
	return d, nil
}

func decodeDelivery(av map[string]types.AttributeValue) (store.Delivery, error) {
	var d store.Delivery
	if _, err := decode(av, &d); err != nil {
		return store.Delivery{}, err
	}
	d.Event, d.Body = nil, nil // "event":null in the data decodes as the bytes "null"
	if v, ok := av[attrEvent].(*types.AttributeValueMemberB); ok {
		d.Event = v.Value
	}
	if v, ok := av[attrBody].(*types.AttributeValueMemberB); ok {
		d.Body = v.Value
	}
	if v, ok := av[attrProcessedAt].(*types.AttributeValueMemberS); ok {
		at, err := time.Parse(time.RFC3339Nano, v.Value)
		if err != nil {
			return store.Delivery{}, fmt.Errorf("decode processed_at %q: %w", v.Value, err)
		}
		at = at.UTC()
		d.ProcessedAt = &at
	}
	if v, ok := av[attrOutcome].(*types.AttributeValueMemberS); ok {
		d.Outcome = v.Value
	}
	return d, nil
}

// MarkDeliveryProcessed sets processed_at and outcome, drops the row from the pending
// index and starts its retention (the TTL attribute), in one conditional UpdateItem;
// repeating it is harmless.
func (s *Store) MarkDeliveryProcessed(ctx context.Context, connectionID, id, outcome string, at time.Time) error {
	expires := store.DeliveryExpiry(store.Delivery{ProcessedAt: &at}, s.retention())
	upd := expression.Set(expression.Name(attrProcessedAt), expression.Value(at.UTC().Format(time.RFC3339Nano))).
		Set(expression.Name(attrOutcome), expression.Value(outcome)).
		Set(expression.Name(attrExpiresAt), expression.Value(expires.Unix())).
		Remove(expression.Name("gsi1pk")).
		Remove(expression.Name("gsi1sk"))
	e, err := expression.NewBuilder().WithUpdate(upd).
		WithCondition(expression.AttributeExists(expression.Name("pk"))).Build()
	if err != nil {
		return fmt.Errorf("mark delivery %s/%s: build: %w", connectionID, id, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: keyOf(deliveryPK(connectionID, id), skDelivery),
		UpdateExpression:          e.Update(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("mark delivery %s/%s: %w", connectionID, id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mark delivery %s/%s: %w", connectionID, id, err)
	}
	return nil
}

// ListUnprocessedDeliveries queries the sparse pending partition of gsi1, oldest first.
// Like every GSI read it is eventually consistent: a delivery marked a moment ago may
// still be listed, which only costs the sweeper a redundant (idempotent) re-queue.
func (s *Store) ListUnprocessedDeliveries(ctx context.Context, before time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Every sort key of a delivery received at `before` is timeKey(before)+"#…", which
	// sorts after timeKey(before): "<" is exactly "received before".
	key := expression.Key("gsi1pk").Equal(expression.Value(pendingGSI)).
		And(expression.Key("gsi1sk").LessThan(expression.Value(timeKey(before))))
	e, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, fmt.Errorf("list unprocessed deliveries: build: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(gsi1),
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	var out []store.Delivery
	for len(out) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(out), 1000)))
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list unprocessed deliveries: %w", err)
		}
		for _, av := range page.Items {
			d, err := decodeDelivery(av)
			if err != nil {
				return nil, fmt.Errorf("list unprocessed deliveries: %w", err)
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// GetCursor reads a named cursor; "" when never set.
func (s *Store) GetCursor(ctx context.Context, name string) (string, error) {
	var v string
	_, err := s.getItem(ctx, cursorPK(name), skCursor, &v)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", name, err)
	}
	return v, nil
}

// PutCursor stores a named cursor; the last write wins (one poller owns each name).
func (s *Store) PutCursor(ctx context.Context, name, value string) error {
	it, err := newItem(cursorPK(name), skCursor, 0, value)
	if err != nil {
		return fmt.Errorf("put cursor %s: %w", name, err)
	}
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("put cursor %s: %w", name, err)
	}
	return nil
}
