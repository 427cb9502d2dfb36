package dynamodb_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/awsemu"
	"github.com/ponte-hub/ponte/internal/store"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
	"github.com/ponte-hub/ponte/internal/store/storetest"
)

var _ store.Store = (*ddbstore.Store)(nil)

// client connects to the DynamoDB API at PONTE_AWS_ENDPOINT (moto's server, started by
// scripts/aws-emulator.sh). Without it the test skips, unless PONTE_REQUIRE_AWS=1.
func client(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_REQUIRE_AWS=1 but PONTE_AWS_ENDPOINT is unset; run scripts/aws-emulator.sh start")
		}
		t.Skip("PONTE_AWS_ENDPOINT unset; run scripts/aws-emulator.sh start and set it")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }), endpoint
}

// serverName names the DynamoDB API server at endpoint for the logs.
func serverName(t *testing.T, endpoint string) string {
	t.Helper()
	server, err := awsemu.Identify(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return server.Name
}

var tableSeq atomic.Int64

// freshTable creates a uniquely named table so runs and tests never share state.
func freshTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("ponte-test-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ddbstore.CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

func TestContract(t *testing.T) {
	c, endpoint := client(t)
	server, err := awsemu.Identify(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("store contract suite: DynamoDB API at %s (%s)", endpoint, server)
	opts := []storetest.Option{storetest.Expire(sweepExpired(c))}
	if server.Moto {
		opts = append(opts, storetest.NonAtomicConditionalWrites(server.Name))
	}
	storetest.Run(t, func(t *testing.T) store.Store { return ddbstore.New(c, freshTable(t, c)) }, opts...)
}

func TestCreateTableIsIdempotentWithTTL(t *testing.T) {
	c, endpoint := client(t)
	t.Logf("DynamoDB API at %s (%s)", endpoint, serverName(t, endpoint))
	ctx := context.Background()
	name := freshTable(t, c)
	if err := ddbstore.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" ||
		(d.TimeToLiveStatus != types.TimeToLiveStatusEnabled && d.TimeToLiveStatus != types.TimeToLiveStatusEnabling) {
		t.Errorf("ttl not enabled on expires_at: %+v", d)
	}
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := desc.Table
	if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode: %+v", tbl.BillingModeSummary)
	}
	if len(tbl.GlobalSecondaryIndexes) != 1 || aws.ToString(tbl.GlobalSecondaryIndexes[0].IndexName) != "gsi1" {
		t.Errorf("indexes: %+v", tbl.GlobalSecondaryIndexes)
	}
}
