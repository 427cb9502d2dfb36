package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// PutTenant writes the tenant and its APIKEY pointer in one transaction, retiring the
// pointer of a rotated key. A key owned by another tenant, or a concurrent change of
// this tenant's key, is store.ErrConflict.
func (s *Store) PutTenant(ctx context.Context, t domain.Tenant) error {
	if t.ID == "" {
		return fmt.Errorf("put tenant: empty id")
	}
	var old domain.Tenant
	oldItem, err := s.getItem(ctx, tenantPK(t.ID), skTenant, &old)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("put tenant %s: read current: %w", t.ID, err)
	}

	it, err := newItem(tenantPK(t.ID), skTenant, 0, t)
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	it.APIKeyHash, it.WTok = t.APIKeyHash, newToken()
	it.GSI1PK, it.GSI1SK = tenantsGSI, esc(t.ID)
	av, err := it.marshal()
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	// The tenant write is conditional on the key hash we read, so two rotations racing
	// cannot leave a pointer behind.
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if exists {
		cond = expression.Name("api_key_hash").Equal(expression.Value(oldItem.APIKeyHash))
		if oldItem.APIKeyHash == "" {
			cond = expression.AttributeNotExists(expression.Name("api_key_hash"))
		}
	}
	put, err := conditionalPut(s.table, av, cond)
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	ops := []types.TransactWriteItem{{Put: put}}

	mine := expression.Name("tenant").Equal(expression.Value(t.ID))
	if t.APIKeyHash != "" {
		ptr := map[string]types.AttributeValue{
			"pk":     &types.AttributeValueMemberS{Value: apiKeyPK(t.APIKeyHash)},
			"sk":     &types.AttributeValueMemberS{Value: skAPIKey},
			"tenant": &types.AttributeValueMemberS{Value: t.ID},
		}
		put, err := conditionalPut(s.table, ptr, expression.AttributeNotExists(expression.Name("pk")).Or(mine))
		if err != nil {
			return fmt.Errorf("put tenant %s: %w", t.ID, err)
		}
		ops = append(ops, types.TransactWriteItem{Put: put})
	}
	if oldHash := oldItem.APIKeyHash; exists && oldHash != "" && oldHash != t.APIKeyHash {
		// A pointer already gone (deleted by hand, say) must not block the rotation.
		gone := expression.AttributeNotExists(expression.Name("pk"))
		e, err := expression.NewBuilder().WithCondition(gone.Or(mine)).Build()
		if err != nil {
			return fmt.Errorf("put tenant %s: build condition: %w", t.ID, err)
		}
		ops = append(ops, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: keyOf(apiKeyPK(oldHash), skAPIKey),
			ConditionExpression:       e.Condition(),
			ExpressionAttributeNames:  e.Names(),
			ExpressionAttributeValues: e.Values(),
		}})
	}
	if _, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops}); err != nil {
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			if len(tce.CancellationReasons) > 0 && ownRetry(tce.CancellationReasons[0].Item, it.WTok) {
				return nil // a retried request whose first attempt committed
			}
			return fmt.Errorf("put tenant %s: key owned by another tenant or tenant changed concurrently: %w",
				t.ID, store.ErrConflict)
		}
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	return nil
}

func conditionalPut(table string, av map[string]types.AttributeValue, cond expression.ConditionBuilder) (*types.Put, error) {
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build condition: %w", err)
	}
	return &types.Put{
		TableName: aws.String(table), Item: av,
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}, nil
}

// GetTenant reads a tenant by id.
func (s *Store) GetTenant(ctx context.Context, id string) (domain.Tenant, error) {
	var t domain.Tenant
	if _, err := s.getItem(ctx, tenantPK(id), skTenant, &t); err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantByAPIKeyHash follows the APIKEY pointer and re-checks the tenant's current hash,
// so a pointer left by an interrupted rotation never authenticates.
func (s *Store) TenantByAPIKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error) {
	if keyHash == "" {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: empty hash: %w", store.ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(apiKeyPK(keyHash), skAPIKey), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: %w", err)
	}
	tv, ok := out.Item["tenant"].(*types.AttributeValueMemberS)
	if !ok {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: %w", store.ErrNotFound)
	}
	t, err := s.GetTenant(ctx, tv.Value)
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: %w", err)
	}
	if t.APIKeyHash != keyHash {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: key retired: %w", store.ErrNotFound)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by id, from the TENANTS partition of gsi1.
// Tenants written before that entry existed are listed once PutTenant rewrites them.
func (s *Store) ListTenants(ctx context.Context) ([]domain.Tenant, error) {
	out, err := queryAll[domain.Tenant](ctx, s, gsi1, expression.Key("gsi1pk").Equal(expression.Value(tenantsGSI)))
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// PutConnection creates or replaces a connection; gsi1 lists it under its tenant.
func (s *Store) PutConnection(ctx context.Context, c domain.Connection) error {
	if c.ID == "" || c.Tenant == "" {
		return fmt.Errorf("put connection: id and tenant are required")
	}
	it, err := newItem(connPK(c.ID), skConn, 0, c)
	if err != nil {
		return fmt.Errorf("put connection %s: %w", c.ID, err)
	}
	it.GSI1PK, it.GSI1SK = tenantConnsGSI(c.Tenant), esc(c.ID)
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("put connection %s: %w", c.ID, err)
	}
	return nil
}

// GetConnection reads a connection by id.
func (s *Store) GetConnection(ctx context.Context, id string) (domain.Connection, error) {
	var c domain.Connection
	if _, err := s.getItem(ctx, connPK(id), skConn, &c); err != nil {
		return domain.Connection{}, fmt.Errorf("get connection %s: %w", id, err)
	}
	return c, nil
}

// ListConnections returns a tenant's connections ordered by id.
func (s *Store) ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error) {
	out, err := queryAll[domain.Connection](ctx, s, gsi1, expression.Key("gsi1pk").Equal(expression.Value(tenantConnsGSI(tenant))))
	if err != nil {
		return nil, fmt.Errorf("list connections of %s: %w", tenant, err)
	}
	return out, nil
}

func (s *Store) put(ctx context.Context, it item) error {
	av, err := it.marshal()
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av})
	return err
}

// queryAll runs a key query (on index, or the base table when index is "") through
// every page and decodes each row's data.
func queryAll[T any](ctx context.Context, s *Store, index string, key expression.KeyConditionBuilder) ([]T, error) {
	e, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, fmt.Errorf("build key condition: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true) // GSIs cannot be read consistently
	}
	var out []T
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, av := range page.Items {
			var v T
			if _, err := decode(av, &v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}
