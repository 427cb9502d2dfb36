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

// PutTenant writes the tenant and the pointers of its API and operator keys in one
// transaction, retiring the pointer of a rotated (or cleared) key. A key owned by
// another tenant, or a concurrent change of this tenant's keys, is store.ErrConflict.
func (s *Store) PutTenant(ctx context.Context, t domain.Tenant) error {
	if t.ID == "" {
		return fmt.Errorf("put tenant: empty id")
	}
	// The row's key attributes, not its data, say which pointers exist: a tenant written
	// before a key kind existed has neither attribute nor pointer for it.
	var cur domain.Tenant
	old, err := s.getItem(ctx, tenantPK(t.ID), skTenant, &cur)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("put tenant %s: read current: %w", t.ID, err)
	}

	it, err := newItem(tenantPK(t.ID), skTenant, 0, t)
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	it.APIKeyHash, it.OperatorKeyHash, it.WTok = t.APIKeyHash, t.OperatorKeyHash, newToken()
	it.GSI1PK, it.GSI1SK = tenantsGSI, esc(t.ID)
	av, err := it.marshal()
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if exists {
		cond = apiKey.unchanged(old.APIKeyHash).And(operatorKey.unchanged(old.OperatorKeyHash))
	}
	put, err := conditionalPut(s.table, av, cond)
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	ops := []types.TransactWriteItem{{Put: put}}
	for _, k := range []struct {
		tenantKey
		old string
	}{{apiKey, old.APIKeyHash}, {operatorKey, old.OperatorKeyHash}} {
		moves, err := k.moves(s.table, t.ID, k.old, k.of(t))
		if err != nil {
			return fmt.Errorf("put tenant %s: %s: %w", t.ID, k.name, err)
		}
		ops = append(ops, moves...)
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
