package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// tenantKey is one kind of key a tenant owns: its hash sits on the tenant row (attr) and
// a pointer row (pk(hash), sk) names the tenant, so a lookup is one GetItem.
type tenantKey struct {
	name string // for errors
	attr string
	sk   string
	pk   func(hash string) string
	of   func(t domain.Tenant) string
}

var (
	apiKey = tenantKey{name: "api key", attr: "api_key_hash", sk: skAPIKey, pk: apiKeyPK,
		of: func(t domain.Tenant) string { return t.APIKeyHash }}
	operatorKey = tenantKey{name: "operator key", attr: "operator_key_hash", sk: skOpKey, pk: opKeyPK,
		of: func(t domain.Tenant) string { return t.OperatorKeyHash }}
)

// unchanged holds while the tenant row still carries old, the hash PutTenant read: two
// rotations racing cannot then leave a pointer behind.
func (k tenantKey) unchanged(old string) expression.ConditionBuilder {
	if old == "" {
		return expression.AttributeNotExists(expression.Name(k.attr))
	}
	return expression.Name(k.attr).Equal(expression.Value(old))
}

// moves returns the transaction items moving tenant id's key from old to hash: the new
// pointer (refused while another tenant owns it) and the retired old one.
func (k tenantKey) moves(table, id, old, hash string) ([]types.TransactWriteItem, error) {
	var ops []types.TransactWriteItem
	mine := expression.Name("tenant").Equal(expression.Value(id))
	if hash != "" {
		ptr := map[string]types.AttributeValue{
			"pk":     &types.AttributeValueMemberS{Value: k.pk(hash)},
			"sk":     &types.AttributeValueMemberS{Value: k.sk},
			"tenant": &types.AttributeValueMemberS{Value: id},
		}
		put, err := conditionalPut(table, ptr, expression.AttributeNotExists(expression.Name("pk")).Or(mine))
		if err != nil {
			return nil, err
		}
		ops = append(ops, types.TransactWriteItem{Put: put})
	}
	if old != "" && old != hash {
		// A pointer already gone (deleted by hand, say) must not block the rotation.
		gone := expression.AttributeNotExists(expression.Name("pk"))
		e, err := expression.NewBuilder().WithCondition(gone.Or(mine)).Build()
		if err != nil {
			return nil, fmt.Errorf("build condition: %w", err)
		}
		ops = append(ops, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(table), Key: keyOf(k.pk(old), k.sk),
			ConditionExpression:       e.Condition(),
			ExpressionAttributeNames:  e.Names(),
			ExpressionAttributeValues: e.Values(),
		}})
	}
	return ops, nil
}

// lookup follows the pointer and re-checks the tenant's current hash, so a pointer left
// by an interrupted rotation never authenticates. "" never matches: it means no key.
func (k tenantKey) lookup(ctx context.Context, s *Store, hash string) (domain.Tenant, error) {
	if hash == "" {
		return domain.Tenant{}, fmt.Errorf("tenant by %s: empty hash: %w", k.name, store.ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(k.pk(hash), k.sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by %s: %w", k.name, err)
	}
	tv, ok := out.Item["tenant"].(*types.AttributeValueMemberS)
	if !ok {
		return domain.Tenant{}, fmt.Errorf("tenant by %s: %w", k.name, store.ErrNotFound)
	}
	t, err := s.GetTenant(ctx, tv.Value)
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by %s: %w", k.name, err)
	}
	if k.of(t) != hash {
		return domain.Tenant{}, fmt.Errorf("tenant by %s: key retired: %w", k.name, store.ErrNotFound)
	}
	return t, nil
}

// TenantByAPIKeyHash finds the tenant owning an API key hash.
func (s *Store) TenantByAPIKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error) {
	return apiKey.lookup(ctx, s, keyHash)
}

// TenantByOperatorKeyHash finds the tenant owning an operator key hash.
func (s *Store) TenantByOperatorKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error) {
	return operatorKey.lookup(ctx, s, keyHash)
}
