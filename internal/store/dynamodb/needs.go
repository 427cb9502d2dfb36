package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// A need's identity is (tenant, order, SKU) - the supplier may change on a later write
// and must replace, not add - so the sort key is order first: deleting an order's needs
// is a begins_with query. Listing by supplier filters on the supplier attribute and
// sorts in Go; a tenant's open needs are few.
const (
	attrSupplier = "supplier"
	skNeed       = "ORD#"
	// batchWriteMax is DynamoDB's BatchWriteItem limit on requests per call.
	batchWriteMax = 25
)

func needsPK(tenant string) string        { return "T#" + esc(tenant) + "#NEEDS" }
func needSKPrefix(order string) string    { return skNeed + esc(order) + "#" }
func needSK(n domain.PurchaseNeed) string { return needSKPrefix(n.OrderID) + esc(n.SKU) }
func needKey(tenant, sk string) string    { return needsPK(tenant) + "\x00" + sk }

// PutPurchaseNeeds writes the needs in BatchWriteItem chunks; a put replaces the row of
// the same (tenant, order, SKU), so a retried call is harmless.
func (s *Store) PutPurchaseNeeds(ctx context.Context, needs []domain.PurchaseNeed) error {
	// One batch may not name a key twice: the last need for a key wins, as it would
	// written one by one.
	idx := make(map[string]int, len(needs))
	reqs := make([]types.WriteRequest, 0, len(needs))
	for _, n := range needs {
		if n.Tenant == "" || n.OrderID == "" || n.SKU == "" {
			return errors.New("put purchase needs: tenant, order id and sku are required")
		}
		n.CreatedAt = n.CreatedAt.UTC()
		it, err := newItem(needsPK(n.Tenant), needSK(n), 0, n)
		if err != nil {
			return fmt.Errorf("put purchase need %s/%s: %w", n.OrderID, n.SKU, err)
		}
		av, err := it.marshal()
		if err != nil {
			return fmt.Errorf("put purchase need %s/%s: %w", n.OrderID, n.SKU, err)
		}
		av[attrSupplier] = &types.AttributeValueMemberS{Value: n.Supplier}
		req := types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}
		k := needKey(n.Tenant, it.SK)
		if i, ok := idx[k]; ok {
			reqs[i] = req
			continue
		}
		idx[k] = len(reqs)
		reqs = append(reqs, req)
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("put purchase needs: %w", err)
	}
	return nil
}

// DeletePurchaseNeeds deletes every need of one order of the tenant.
func (s *Store) DeletePurchaseNeeds(ctx context.Context, tenant, orderID string) error {
	key := expression.Key("pk").Equal(expression.Value(needsPK(tenant))).
		And(expression.Key("sk").BeginsWith(needSKPrefix(orderID)))
	rows, err := s.queryRows(ctx, key)
	if err != nil {
		return fmt.Errorf("delete purchase needs of %s/%s: %w", tenant, orderID, err)
	}
	reqs := make([]types.WriteRequest, 0, len(rows))
	for _, av := range rows {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{"pk": av["pk"], "sk": av["sk"]},
		}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("delete purchase needs of %s/%s: %w", tenant, orderID, err)
	}
	return nil
}

// ListPurchaseNeeds reads the tenant's needs (of one supplier when given), ordered by
// supplier, SKU, order id.
func (s *Store) ListPurchaseNeeds(ctx context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error) {
	key := expression.Key("pk").Equal(expression.Value(needsPK(tenant)))
	rows, err := s.queryRows(ctx, key, attrSupplier, supplier)
	if err != nil {
		return nil, fmt.Errorf("list purchase needs of %s: %w", tenant, err)
	}
	out := make([]domain.PurchaseNeed, 0, len(rows))
	for _, av := range rows {
		var n domain.PurchaseNeed
		if _, err := decode(av, &n); err != nil {
			return nil, fmt.Errorf("list purchase needs of %s: %w", tenant, err)
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b domain.PurchaseNeed) int {
		return cmp.Or(cmp.Compare(a.Supplier, b.Supplier), cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.OrderID, b.OrderID))
	})
	return out, nil
}

// batchWrite sends reqs in chunks of 25, retrying UnprocessedItems with capped backoff.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		pending := reqs[:min(batchWriteMax, len(reqs))]
		reqs = reqs[len(pending):]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 10 {
					return fmt.Errorf("batch write: %d requests still unprocessed after %d attempts", len(pending), attempt)
				}
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

var _ store.OrderStore = (*Store)(nil)
