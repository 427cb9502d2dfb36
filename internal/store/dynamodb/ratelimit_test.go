package dynamodb_test

import (
	"testing"

	"github.com/ponte-hub/ponte/internal/platform/ratelimit/ratelimittest"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// The shared limiter's buckets on DynamoDB pass the TokenStore contract.
func TestRateBucketsSwap(t *testing.T) {
	c, endpoint := client(t)
	t.Logf("DynamoDB API: %s", serverName(t, endpoint))
	ratelimittest.Run(t, ddbstore.New(c, freshTable(t, c)), "")
}
