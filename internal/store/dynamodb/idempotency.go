package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// attrExpiresAt is the TTL attribute (epoch seconds). DynamoDB deletes expired rows only
// eventually, so liveness is decided by expires_ms, to the millisecond, on every access.
const attrExpiresAt = "expires_at"

type idemItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Key         string `dynamodbav:"key"`
	RequestHash string `dynamodbav:"request_hash"`
	Status      string `dynamodbav:"status"`
	StatusCode  int    `dynamodbav:"status_code"`
	Response    []byte `dynamodbav:"response,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
	ExpiresMS   int64  `dynamodbav:"expires_ms"`
	WTok        string `dynamodbav:"wtok,omitempty"`
}

func (it idemItem) record() store.IdempotencyRecord {
	return store.IdempotencyRecord{
		Key: it.Key, RequestHash: it.RequestHash, Status: it.Status, StatusCode: it.StatusCode,
		Response: it.Response, ExpiresAt: time.UnixMilli(it.ExpiresMS).UTC(),
	}
}

// owned is the record a winning claim returns: with its owner.
func (it idemItem) owned() store.IdempotencyRecord {
	rec := it.record()
	rec.Owner = it.WTok
	return rec
}

// expiry returns the millisecond deadline and the TTL seconds, rounded up so the TTL
// sweeper never deletes a row that is still live.
func expiry(now time.Time, ttl time.Duration) (ms, sec int64) {
	ms = now.Add(ttl).UnixMilli()
	return ms, (ms + 999) / 1000
}

// ClaimIdempotency is the Powertools-style claim: a PutItem that succeeds only when no
// row exists or the existing one has expired (a lapsed lease or an old outcome). The
// write token is the claim's owner.
func (s *Store) ClaimIdempotency(ctx context.Context, key, requestHash string, lease time.Duration) (store.IdempotencyRecord, bool, error) {
	if key == "" {
		return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency: empty key")
	}
	// A lost race against a release or an expiry can leave nothing to return; retrying
	// the claim then is correct and bounded.
	for range 5 {
		now := time.Now()
		ms, sec := expiry(now, lease)
		it := idemItem{PK: idemPK(key), SK: skIdem, Key: key, RequestHash: requestHash,
			Status: store.IdemInProgress, ExpiresAt: sec, ExpiresMS: ms, WTok: newToken()}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: marshal: %w", key, err)
		}
		cond := expression.AttributeNotExists(expression.Name("pk")).
			Or(expression.Name("expires_ms").LessThanEqual(expression.Value(now.UnixMilli())))
		e, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: build: %w", key, err)
		}
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: av,
			ConditionExpression:                 e.Condition(),
			ExpressionAttributeNames:            e.Names(),
			ExpressionAttributeValues:           e.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return it.owned(), true, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: %w", key, err)
		}
		if ownRetry(ccf.Item, it.WTok) {
			return it.owned(), true, nil
		}
		existing, err := s.liveIdem(ctx, key, ccf.Item)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: %w", key, err)
		}
		return existing, false, nil
	}
	return store.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency %s: record kept changing: %w", key, store.ErrConflict)
}

// liveIdem decodes the row returned by a failed condition, or reads it when the server
// did not return it, and reports store.ErrNotFound when it is gone or expired.
func (s *Store) liveIdem(ctx context.Context, key string, av map[string]types.AttributeValue) (store.IdempotencyRecord, error) {
	if av == nil {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: keyOf(idemPK(key), skIdem), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return store.IdempotencyRecord{}, fmt.Errorf("read existing: %w", err)
		}
		av = out.Item
	}
	if av == nil {
		return store.IdempotencyRecord{}, store.ErrNotFound
	}
	var it idemItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("unmarshal existing: %w", err)
	}
	if it.ExpiresMS <= time.Now().UnixMilli() {
		return store.IdempotencyRecord{}, store.ErrNotFound
	}
	return it.record(), nil
}

// RenewIdempotency pushes owner's live in-progress claim to now+lease.
func (s *Store) RenewIdempotency(ctx context.Context, key, owner string, lease time.Duration) error {
	now := time.Now()
	ms, sec := expiry(now, lease)
	upd := expression.Set(expression.Name(attrExpiresAt), expression.Value(sec)).
		Set(expression.Name("expires_ms"), expression.Value(ms))
	_, err := s.updateOwnClaim(ctx, key, owner, now, upd)
	if isConditionFailed(err) {
		return fmt.Errorf("renew idempotency %s: no live claim held by this owner: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("renew idempotency %s: %w", key, err)
	}
	return nil
}

// CompleteIdempotency stores the response of owner's live claim, kept for ttl.
func (s *Store) CompleteIdempotency(ctx context.Context, key, owner string, statusCode int, response []byte, ttl time.Duration) error {
	now := time.Now()
	ms, sec := expiry(now, ttl)
	upd := expression.Set(expression.Name("status"), expression.Value(store.IdemCompleted)).
		Set(expression.Name("status_code"), expression.Value(statusCode)).
		Set(expression.Name(attrExpiresAt), expression.Value(sec)).
		Set(expression.Name("expires_ms"), expression.Value(ms))
	if len(response) > 0 {
		upd = upd.Set(expression.Name("response"), expression.Value(response))
	} else {
		upd = upd.Remove(expression.Name("response"))
	}
	old, err := s.updateOwnClaim(ctx, key, owner, now, upd)
	if isConditionFailed(err) {
		// The SDK retries a call whose answer was lost; finding our own completion is success.
		var it idemItem
		if old != nil && attributevalue.UnmarshalMap(old, &it) == nil &&
			it.WTok == owner && it.Status == store.IdemCompleted && it.StatusCode == statusCode {
			return nil
		}
		return fmt.Errorf("complete idempotency %s: no live claim held by this owner: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("complete idempotency %s: %w", key, err)
	}
	return nil
}

// updateOwnClaim applies upd to key's row only while it is owner's live in-progress
// claim; on a failed condition it returns the row as it was (when there is one).
func (s *Store) updateOwnClaim(ctx context.Context, key, owner string, now time.Time, upd expression.UpdateBuilder) (map[string]types.AttributeValue, error) {
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(ownLiveClaim(owner, now)).Build()
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: keyOf(idemPK(key), skIdem),
		UpdateExpression:                    e.Update(),
		ConditionExpression:                 e.Condition(),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, err
	}
	return nil, err
}

// ownLiveClaim holds while the row is owner's in-progress claim and its lease has not lapsed.
func ownLiveClaim(owner string, now time.Time) expression.ConditionBuilder {
	return expression.Name("wtok").Equal(expression.Value(owner)).
		And(expression.Name("status").Equal(expression.Value(store.IdemInProgress))).
		And(expression.Name("expires_ms").GreaterThan(expression.Value(now.UnixMilli())))
}

// ReleaseIdempotency deletes owner's in-progress claim; nothing to release is not an error.
func (s *Store) ReleaseIdempotency(ctx context.Context, key, owner string) error {
	cond := expression.Name("wtok").Equal(expression.Value(owner)).
		And(expression.Name("status").Equal(expression.Value(store.IdemInProgress)))
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("release idempotency %s: build: %w", key, err)
	}
	_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: keyOf(idemPK(key), skIdem),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release idempotency %s: %w", key, err)
	}
	return nil
}
