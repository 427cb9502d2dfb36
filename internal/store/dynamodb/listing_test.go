package dynamodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	ddbstore "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// TestSKUListingIsSharded: one tenant's SKU rows land on several gsi1 partitions, so a
// hot tenant's stock writes do not all hit one index partition.
func TestSKUListingIsSharded(t *testing.T) {
	c, endpoint := client(t)
	t.Logf("DynamoDB API at %s (%s)", endpoint, serverName(t, endpoint))
	table := freshTable(t, c)
	s := ddbstore.New(c, table)
	ctx := context.Background()
	var writes []store.SKUWrite
	for i := range 40 {
		writes = append(writes, store.SKUWrite{State: domain.SKUState{Tenant: "ta", SKU: fmt.Sprintf("SKU-%02d", i), Rev: 1}})
	}
	if _, err := s.PutSKUs(ctx, writes); err != nil {
		t.Fatal(err)
	}
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{}
	for _, it := range out.Items {
		pk, _ := it["gsi1pk"].(*types.AttributeValueMemberS)
		if pk == nil || !strings.HasPrefix(pk.Value, "SKUS#ta#") {
			t.Errorf("row %v is not on a SKU listing partition", it["pk"])
			continue
		}
		parts[pk.Value]++
	}
	if len(parts) < 4 {
		t.Errorf("40 SKUs on %d listing partitions, want spread over most of 8: %v", len(parts), parts)
	}
}

// TestLegacyTenantGainsOperatorKeyPointer: a tenant row written before operator keys had
// a pointer (hash only inside the data) is rewritten without a false conflict, and then
// its operator key resolves.
func TestLegacyTenantGainsOperatorKeyPointer(t *testing.T) {
	c, endpoint := client(t)
	t.Logf("DynamoDB API at %s (%s)", endpoint, serverName(t, endpoint))
	table := freshTable(t, c)
	s := ddbstore.New(c, table)
	ctx := context.Background()
	tn := domain.Tenant{ID: "t1", APIKeyHash: "api-1", OperatorKeyHash: "op-1"}
	if err := s.PutTenant(ctx, domain.Tenant{ID: "t1", APIKeyHash: "api-1"}); err != nil {
		t.Fatal(err)
	}
	// Make the row legacy: data names the operator key, no attribute, no pointer.
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": str("TENANT#t1"), "sk": str("TENANT"), "gsi1pk": str("TENANTS"), "gsi1sk": str("t1"),
		"rev": &types.AttributeValueMemberN{Value: "0"}, "api_key_hash": str("api-1"),
		"data": str(`{"id":"t1","name":"","api_key_hash":"api-1","operator_key_hash":"op-1","currency":"","created_at":"0001-01-01T00:00:00Z"}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantByOperatorKeyHash(ctx, "op-1"); err == nil {
		t.Fatal("legacy operator key resolved without a pointer; the test setup is wrong")
	}
	if err := s.PutTenant(ctx, tn); err != nil {
		t.Fatalf("rewrite legacy tenant: %v", err)
	}
	got, err := s.TenantByOperatorKeyHash(ctx, "op-1")
	if err != nil || got.ID != "t1" {
		t.Fatalf("operator key after rewrite: %+v, %v", got, err)
	}
}
