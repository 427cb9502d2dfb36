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

	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// Shared rate limits (ratelimit.Shared): one row per store limit,
//
//	RATE#<key>   RATE   tat_ns (theoretical arrival time, Unix ns), day and used (daily
//	                    budget), rev (compare-and-swap revision), wtok (the last
//	                    writer's token, see ownRetry), expires_at (TTL)
//
// written only by SwapBucket's conditional UpdateItem: DynamoDB applies one conditional
// write per item atomically, which is all the shared limiter needs.

const skRate = "RATE"

func ratePK(key string) string { return "RATE#" + esc(key) }

type rateItem struct {
	TATNanos int64  `dynamodbav:"tat_ns"`
	Day      string `dynamodbav:"day,omitempty"`
	Used     int    `dynamodbav:"used"`
	Rev      int64  `dynamodbav:"rev"`
	WTok     string `dynamodbav:"wtok,omitempty"`
}

func (it rateItem) bucket() ratelimit.Bucket {
	b := ratelimit.Bucket{Day: it.Day, Used: it.Used, Rev: it.Rev}
	if it.TATNanos != 0 {
		b.TAT = time.Unix(0, it.TATNanos).UTC()
	}
	return b
}

var _ ratelimit.TokenStore = (*Store)(nil)

// SwapBucket implements ratelimit.TokenStore with one conditional UpdateItem (plus a
// GetItem when a lost race does not return the winner's row).
func (s *Store) SwapBucket(ctx context.Context, key string, old, next ratelimit.Bucket, expires time.Time) (bool, ratelimit.Bucket, error) {
	var tat int64
	if !next.TAT.IsZero() {
		tat = next.TAT.UnixNano()
	}
	wtok := newToken()
	upd := expression.Set(expression.Name("tat_ns"), expression.Value(tat)).
		Set(expression.Name("wtok"), expression.Value(wtok)).
		Set(expression.Name("used"), expression.Value(next.Used)).
		Set(expression.Name("rev"), expression.Value(next.Rev)).
		Set(expression.Name(attrExpiresAt), expression.Value(expires.Unix()))
	if next.Day != "" {
		upd = upd.Set(expression.Name("day"), expression.Value(next.Day))
	} else {
		upd = upd.Remove(expression.Name("day"))
	}
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if old.Rev != 0 {
		cond = expression.Name("rev").Equal(expression.Value(old.Rev))
	}
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, ratelimit.Bucket{}, fmt.Errorf("swap rate bucket %s: build: %w", key, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: keyOf(ratePK(key), skRate),
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, next, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return false, ratelimit.Bucket{}, fmt.Errorf("swap rate bucket %s: %w", key, err)
	}
	av := ccf.Item
	if av == nil {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: keyOf(ratePK(key), skRate), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return false, ratelimit.Bucket{}, fmt.Errorf("swap rate bucket %s: read current: %w", key, err)
		}
		av = out.Item
	}
	var it rateItem
	if av != nil {
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return false, ratelimit.Bucket{}, fmt.Errorf("swap rate bucket %s: unmarshal current: %w", key, err)
		}
	}
	// The SDK retried a write that had already succeeded: the row carries our token.
	// (Two processes with the same view compute the same next bucket, so only a token
	// per write tells them apart.)
	if it.WTok == wtok {
		return true, next, nil
	}
	return false, it.bucket(), nil
}
