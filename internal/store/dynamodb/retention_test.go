package dynamodb_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// sweepExpired does, as of now, what DynamoDB's TTL sweeper does in the background: it
// deletes every item whose TTL attribute (the one the table's TTL specification names)
// holds an epoch second before now. Emulators keep expired items, so the contract's
// retention case needs it to see what DynamoDB would delete; it proves which rows the
// store stamps, and when.
func sweepExpired(c *dynamodb.Client) func(t *testing.T, s store.Store, now time.Time) {
	return func(t *testing.T, s store.Store, now time.Time) {
		t.Helper()
		ctx := context.Background()
		table := s.(*ddbstore.Store).Table()
		ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		attr := aws.ToString(ttl.TimeToLiveDescription.AttributeName)
		if attr == "" {
			t.Fatalf("table %s has no TTL attribute", table)
		}
		p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
			TableName:                 aws.String(table),
			FilterExpression:          aws.String("#ttl < :now"),
			ExpressionAttributeNames:  map[string]string{"#ttl": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
			ProjectionExpression:      aws.String("pk, sk"),
			ConsistentRead:            aws.Bool(true),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range page.Items {
				if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
