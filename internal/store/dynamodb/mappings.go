package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// PutMapping creates or replaces a mapping; rewriting the row moves its gsi1 entry, so
// a remapped product id stops resolving to the SKU.
func (s *Store) PutMapping(ctx context.Context, m domain.Mapping) error {
	if m.Tenant == "" || m.ConnectionID == "" || m.SKU == "" || m.ProductID == "" {
		return fmt.Errorf("put mapping: tenant, connection, sku and product id are required")
	}
	it, err := newItem(skuPK(m.Tenant, m.SKU), mapSK(m.ConnectionID), 0, m)
	if err != nil {
		return fmt.Errorf("put mapping %s/%s: %w", m.ConnectionID, m.SKU, err)
	}
	it.GSI1PK, it.GSI1SK = platformGSI(m.ConnectionID, m.ProductID, m.VariantID), it.PK
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("put mapping %s/%s: %w", m.ConnectionID, m.SKU, err)
	}
	return nil
}

// GetMapping reads one connection's mapping of a SKU.
func (s *Store) GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error) {
	var m domain.Mapping
	if _, err := s.getItem(ctx, skuPK(tenant, sku), mapSK(connectionID), &m); err != nil {
		return domain.Mapping{}, fmt.Errorf("get mapping %s/%s: %w", connectionID, sku, err)
	}
	return m, nil
}

// ListMappings queries the SKU's item collection for its MAP# rows.
func (s *Store) ListMappings(ctx context.Context, tenant, sku string) ([]domain.Mapping, error) {
	key := expression.Key("pk").Equal(expression.Value(skuPK(tenant, sku))).
		And(expression.Key("sk").BeginsWith("MAP#"))
	out, err := queryAll[domain.Mapping](ctx, s, "", key)
	if err != nil {
		return nil, fmt.Errorf("list mappings of %s: %w", sku, err)
	}
	return out, nil
}

// MappingByPlatformID looks the platform ids up on gsi1 (first SKU by key order if a
// product was mapped twice).
func (s *Store) MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error) {
	e, err := expression.NewBuilder().WithKeyCondition(
		expression.Key("gsi1pk").Equal(expression.Value(platformGSI(connectionID, productID, variantID)))).Build()
	if err != nil {
		return domain.Mapping{}, fmt.Errorf("mapping by platform id: build: %w", err)
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(gsi1), Limit: aws.Int32(1),
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	what := connectionID + "/" + productID + "/" + variantID
	if err != nil {
		return domain.Mapping{}, fmt.Errorf("mapping by platform id %s: %w", what, err)
	}
	if len(out.Items) == 0 {
		return domain.Mapping{}, fmt.Errorf("mapping by platform id %s: %w", what, store.ErrNotFound)
	}
	var m domain.Mapping
	if _, err := decode(out.Items[0], &m); err != nil {
		return domain.Mapping{}, fmt.Errorf("mapping by platform id %s: %w", what, err)
	}
	return m, nil
}

// PutDesired stores d unless a state with Rev >= d.Rev is stored.
func (s *Store) PutDesired(ctx context.Context, d domain.DesiredState) error {
	newer := expression.Name("rev").LessThan(expression.Value(d.Rev))
	return s.putRevved(ctx, "desired", d.Tenant, d.ConnectionID, d.SKU, desiredSK(d.ConnectionID), d.Rev, d, newer)
}

// PutDesiredMany writes the states side by side (DynamoDB has no cheaper multi-item
// conditional write: transactions are all-or-nothing and cost double).
func (s *Store) PutDesiredMany(ctx context.Context, ds []domain.DesiredState) ([]error, error) {
	errs := make([]error, len(ds))
	forEach(len(ds), s.workers, func(i int) { errs[i] = s.PutDesired(ctx, ds[i]) })
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put desired states: %w", err)
	}
	return errs, nil
}

// GetDesired reads a connection's desired state of a SKU.
func (s *Store) GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error) {
	var d domain.DesiredState
	if _, err := s.getItem(ctx, skuPK(tenant, sku), desiredSK(connectionID), &d); err != nil {
		return domain.DesiredState{}, fmt.Errorf("get desired %s/%s: %w", connectionID, sku, err)
	}
	return d, nil
}

// PutPushed stores p unless a state with Rev > p.Rev is stored; equal Rev overwrites.
func (s *Store) PutPushed(ctx context.Context, p domain.PushedState) error {
	notOlder := expression.Name("rev").LessThanEqual(expression.Value(p.Rev))
	return s.putRevved(ctx, "pushed", p.Tenant, p.ConnectionID, p.SKU, pushedSK(p.ConnectionID), p.Rev, p, notOlder)
}

// GetPushed reads what was last pushed to a connection for a SKU.
func (s *Store) GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error) {
	var p domain.PushedState
	if _, err := s.getItem(ctx, skuPK(tenant, sku), pushedSK(connectionID), &p); err != nil {
		return domain.PushedState{}, fmt.Errorf("get pushed %s/%s: %w", connectionID, sku, err)
	}
	return p, nil
}

func (s *Store) putRevved(ctx context.Context, kind, tenant, conn, sku, sk string, rev int64, v any, revOK expression.ConditionBuilder) error {
	if tenant == "" || conn == "" || sku == "" {
		return fmt.Errorf("put %s: tenant, connection and sku are required", kind)
	}
	cond := expression.AttributeNotExists(expression.Name("pk")).Or(revOK)
	err := s.putIf(ctx, skuPK(tenant, sku), sk, rev, v, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("put %s %s/%s rev %d: %w", kind, conn, sku, rev, store.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("put %s %s/%s: %w", kind, conn, sku, err)
	}
	return nil
}
