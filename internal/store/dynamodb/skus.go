package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// batchGetMax is DynamoDB's BatchGetItem limit on keys per request.
const batchGetMax = 100

// GetSKUs reads the STATE rows in BatchGetItem chunks of 100, run concurrently.
func (s *Store) GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error) {
	// BatchGetItem rejects a request naming one key twice.
	seen := make(map[string]bool, len(skus))
	var keys []map[string]types.AttributeValue
	for _, sku := range skus {
		if !seen[sku] {
			seen[sku] = true
			keys = append(keys, keyOf(skuPK(tenant, sku), skState))
		}
	}
	var (
		mu    sync.Mutex
		out   = make(map[string]domain.SKUState, len(keys))
		errs  []error
		total = (len(keys) + batchGetMax - 1) / batchGetMax
	)
	forEach(total, s.workers, func(i int) {
		chunk := keys[i*batchGetMax : min((i+1)*batchGetMax, len(keys))]
		rows, err := s.batchGet(ctx, chunk)
		states := make([]domain.SKUState, 0, len(rows))
		for _, av := range rows {
			var st domain.SKUState
			if err == nil {
				_, err = decode(av, &st)
			}
			states = append(states, st)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, st := range states {
			out[st.SKU] = st
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("get skus of %s: %w", tenant, err)
	}
	return out, nil
}

// batchGet fetches up to 100 keys, retrying UnprocessedKeys with capped backoff.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var rows []map[string]types.AttributeValue
	pending := keys
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 10 {
				return nil, fmt.Errorf("batch get: %d keys still unprocessed after %d attempts", len(pending), attempt)
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("batch get: %w", err)
		}
		rows = append(rows, out.Responses[s.table]...)
		pending = out.UnprocessedKeys[s.table].Keys
	}
	return rows, nil
}

func backoff(attempt int) time.Duration {
	return min(25*time.Millisecond<<attempt, 2*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PutSKUs runs each write as its own conditional PutItem on a bounded worker pool: a
// transaction would fail all writes for one conflict, and the port wants them independent.
func (s *Store) PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error) {
	errs := make([]error, len(writes))
	forEach(len(writes), s.workers, func(i int) {
		errs[i] = s.putSKU(ctx, writes[i])
	})
	return errs, nil
}

func (s *Store) putSKU(ctx context.Context, w store.SKUWrite) error {
	st := w.State
	switch {
	case st.Tenant == "" || st.SKU == "":
		return fmt.Errorf("sku write: tenant and sku are required")
	case st.Rev != w.ExpectedRev+1:
		return fmt.Errorf("sku %s: rev %d must be expected rev %d + 1", st.SKU, st.Rev, w.ExpectedRev)
	}
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if w.ExpectedRev != 0 {
		cond = expression.Name("rev").Equal(expression.Value(w.ExpectedRev))
	}
	it, err := newItem(skuPK(st.Tenant, st.SKU), skState, st.Rev, st)
	if err != nil {
		return fmt.Errorf("put sku %s/%s: %w", st.Tenant, st.SKU, err)
	}
	skuListing.index(&it, st.Tenant, st.SKU)
	err = s.putRowIf(ctx, it, nil, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("sku %s/%s at rev %d: %w", st.Tenant, st.SKU, w.ExpectedRev, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put sku %s/%s: %w", st.Tenant, st.SKU, err)
	}
	return nil
}

// putIf writes v as the row (pk, sk) when cond holds; a failed condition (other than a
// retry seeing its own write) comes back as the SDK's ConditionalCheckFailedException.
func (s *Store) putIf(ctx context.Context, pk, sk string, rev int64, v any, cond expression.ConditionBuilder) error {
	it, err := newItem(pk, sk, rev, v)
	if err != nil {
		return err
	}
	return s.putRowIf(ctx, it, nil, cond)
}

// putRowIf writes it, plus extra top-level attributes (filterable, or kept out of the
// JSON data), when cond holds, with a fresh write token so a retry recognises itself.
func (s *Store) putRowIf(ctx context.Context, it item, extra map[string]types.AttributeValue, cond expression.ConditionBuilder) error {
	it.WTok = newToken()
	av, err := it.marshal()
	if err != nil {
		return err
	}
	maps.Copy(av, extra)
	put, err := conditionalPut(s.table, av, cond)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item,
		ConditionExpression:                 put.ConditionExpression,
		ExpressionAttributeNames:            put.ExpressionAttributeNames,
		ExpressionAttributeValues:           put.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && ownRetry(ccf.Item, it.WTok) {
		return nil
	}
	return err
}
