package dynamodb

import (
	"context"
	"fmt"
	"maps"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// The dead-letter index keeps two rows per dead letter, written and deleted together in
// one transaction, both addressable by tenant, queue and id:
//
//	T#<tenant>#DEAD   <queue>#<id>   gsi1 T#<tenant>#DEAD / <dead_at>#<queue>#<id>
//	T#<tenant>#DEADC  <queue>#<id>   gsi1 T#<tenant>#DEADC#<conn> / <dead_at>#<queue>#<id>
//
// gsi1 lists a tenant's, or one connection's, newest first whatever other tenants and
// connections hold; the first partition is the exact count (a strongly consistent
// query); GetDeadLetter reads it by key. Queue is a filter attribute.
const attrQueue = "queue"

func deadPK(tenant string) string            { return "T#" + esc(tenant) + "#DEAD" }
func deadConnPK(tenant string) string        { return "T#" + esc(tenant) + "#DEADC" }
func deadConnGSI(tenant, conn string) string { return deadConnPK(tenant) + "#" + esc(conn) }
func deadSK(queue, id string) string         { return esc(queue) + "#" + esc(id) }
func deadSortKey(c store.DeadLetterCursor) string {
	return timeKey(c.DeadAt) + "#" + deadSK(c.Queue, c.ID)
}

// PutDeadLetter writes both rows in one transaction (replacing any earlier pair).
func (s *Store) PutDeadLetter(ctx context.Context, d store.DeadLetter) error {
	if err := store.ValidateDeadLetter(d); err != nil {
		return err
	}
	sortKey := deadSortKey(store.DeadLetterCursor{DeadAt: d.DeadAt, Queue: d.Queue, ID: d.ID})
	extra := map[string]types.AttributeValue{
		attrQueue:     &types.AttributeValueMemberS{Value: d.Queue},
		attrConn:      &types.AttributeValueMemberS{Value: d.Connection},
		attrExpiresAt: ttlValue(store.DeadLetterExpiry(d, s.retention())),
	}
	var ops []types.TransactWriteItem
	for _, keys := range [][3]string{
		{deadPK(d.Tenant), deadPK(d.Tenant)},
		{deadConnPK(d.Tenant), deadConnGSI(d.Tenant, d.Connection)},
	} {
		it, err := newItem(keys[0], deadSK(d.Queue, d.ID), 0, d)
		if err != nil {
			return fmt.Errorf("put dead letter %s/%s: %w", d.Queue, d.ID, err)
		}
		it.GSI1PK, it.GSI1SK = keys[1], sortKey
		av, err := it.marshal()
		if err != nil {
			return fmt.Errorf("put dead letter %s/%s: %w", d.Queue, d.ID, err)
		}
		maps.Copy(av, extra)
		ops = append(ops, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: av}})
	}
	if _, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops}); err != nil {
		return fmt.Errorf("put dead letter %s/%s: %w", d.Queue, d.ID, err)
	}
	return nil
}

// GetDeadLetter reads the tenant's row strongly consistently.
func (s *Store) GetDeadLetter(ctx context.Context, tenant, queue, id string) (store.DeadLetter, error) {
	var d store.DeadLetter
	if _, err := s.getItem(ctx, deadPK(tenant), deadSK(queue, id), &d); err != nil {
		return store.DeadLetter{}, fmt.Errorf("get dead letter %s/%s: %w", queue, id, err)
	}
	return d, nil
}

// ListDeadLetters queries gsi1 backwards (newest first): the tenant's partition, or the
// connection's. A queue filter pages on until limit+1 matches, the extra one saying a
// next page exists. gsi1 is eventually consistent, as every GSI: a row filed a moment
// ago may show on the next call.
func (s *Store) ListDeadLetters(ctx context.Context, tenant string, f store.DeadLetterFilter, cursor string, limit int) ([]store.DeadLetter, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("list dead letters of %s: limit %d must be positive", tenant, limit)
	}
	c, err := store.ParseDeadLetterCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
	}
	pk, gpk := deadPK(tenant), deadPK(tenant)
	if f.Connection != "" {
		pk, gpk = deadConnPK(tenant), deadConnGSI(tenant, f.Connection)
	}
	b, filtered := withEquals(expression.NewBuilder().WithKeyCondition(expression.Key("gsi1pk").Equal(expression.Value(gpk))),
		attrQueue, f.Queue)
	e, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters of %s: build: %w", tenant, err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(gsi1), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	}
	if !filtered {
		in.Limit = aws.Int32(int32(min(limit+1, 1000)))
	}
	if cursor != "" {
		in.ExclusiveStartKey = keyOf(pk, deadSK(c.Queue, c.ID))
		in.ExclusiveStartKey["gsi1pk"] = &types.AttributeValueMemberS{Value: gpk}
		in.ExclusiveStartKey["gsi1sk"] = &types.AttributeValueMemberS{Value: deadSortKey(c)}
	}
	var out []store.DeadLetter
	for {
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
		}
		for _, av := range page.Items {
			if len(out) == limit {
				return out, store.CursorAfter(out[limit-1]), nil // a match beyond the page: there is more
			}
			var d store.DeadLetter
			if _, err := decode(av, &d); err != nil {
				return nil, "", fmt.Errorf("list dead letters of %s: %w", tenant, err)
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// CountDeadLetters reads the queue and connection of every row of the tenant's first
// partition (strongly consistent, so exact) and tallies them.
func (s *Store) CountDeadLetters(ctx context.Context, tenant string) ([]store.DeadLetterCount, error) {
	e, err := expression.NewBuilder().
		WithKeyCondition(expression.Key("pk").Equal(expression.Value(deadPK(tenant)))).
		WithProjection(expression.NamesList(expression.Name(attrQueue), expression.Name(attrConn))).Build()
	if err != nil {
		return nil, fmt.Errorf("count dead letters of %s: build: %w", tenant, err)
	}
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: e.KeyCondition(), ProjectionExpression: e.Projection(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	type pair struct{ queue, conn string }
	counts := map[pair]int{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("count dead letters of %s: %w", tenant, err)
		}
		for _, av := range page.Items {
			var k pair
			if v, ok := av[attrQueue].(*types.AttributeValueMemberS); ok {
				k.queue = v.Value
			}
			if v, ok := av[attrConn].(*types.AttributeValueMemberS); ok {
				k.conn = v.Value
			}
			counts[k]++
		}
	}
	out := make([]store.DeadLetterCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, store.DeadLetterCount{Queue: k.queue, Connection: k.conn, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Queue != out[j].Queue {
			return out[i].Queue < out[j].Queue
		}
		return out[i].Connection < out[j].Connection
	})
	return out, nil
}

// DeleteDeadLetter deletes both rows in one transaction; absent rows are no error.
func (s *Store) DeleteDeadLetter(ctx context.Context, tenant, queue, id string) error {
	sk := deadSK(queue, id)
	ops := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: keyOf(deadPK(tenant), sk)}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: keyOf(deadConnPK(tenant), sk)}},
	}
	if _, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops}); err != nil {
		return fmt.Errorf("delete dead letter %s/%s: %w", queue, id, err)
	}
	return nil
}
