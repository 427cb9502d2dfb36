package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// Order rows carry their state and connection as top-level attributes: ListOrders
// filters on them, and a filter cannot look inside the JSON data.
const (
	attrState = "state"
	attrConn  = "conn"
	skOrder   = "ORD#"
)

// A tenant's orders share one partition so listing them by id is a Query. The id is the
// last sort-key component and left unescaped: nothing follows it, so it cannot forge
// another key, and raw bytes sort exactly as the port orders ids.
func ordersPK(tenant string) string { return "T#" + esc(tenant) + "#ORDERS" }
func orderSK(id string) string      { return skOrder + id }
func erpGSI(tenant string, st domain.ERPState) string {
	return "T#" + esc(tenant) + "#ORDERS#ERP#" + esc(string(st))
}

// erpSortKey orders an ERP partition by offer time, then id.
func erpSortKey(r domain.OrderRecord) string {
	var offered string
	if r.ERP.OfferedAt != nil {
		offered = timeKey(*r.ERP.OfferedAt)
	} else {
		offered = strings.Repeat("0", len(sortTime)) // never offered: first
	}
	return offered + "#" + r.ID
}

// GetOrder reads one order strongly consistently.
func (s *Store) GetOrder(ctx context.Context, tenant, id string) (domain.OrderRecord, error) {
	var r domain.OrderRecord
	if _, err := s.getItem(ctx, ordersPK(tenant), orderSK(id), &r); err != nil {
		return domain.OrderRecord{}, fmt.Errorf("get order %s/%s: %w", tenant, id, err)
	}
	return r, nil
}

// PutOrder is one conditional PutItem on rev; while the order has an ERP state, gsi1
// lists it under that state (the pull API's pending list).
func (s *Store) PutOrder(ctx context.Context, w store.OrderWrite) error {
	if err := store.ValidateOrderWrite(w); err != nil {
		return err
	}
	r := w.Record
	it, err := newItem(ordersPK(r.Tenant), orderSK(r.ID), r.Rev, r)
	if err != nil {
		return fmt.Errorf("put order %s/%s: %w", r.Tenant, r.ID, err)
	}
	if r.ERP.State != domain.ERPNone {
		it.GSI1PK, it.GSI1SK = erpGSI(r.Tenant, r.ERP.State), erpSortKey(r)
	}
	extra := map[string]types.AttributeValue{}
	if r.State != "" {
		extra[attrState] = &types.AttributeValueMemberS{Value: string(r.State)}
	}
	if r.ConnectionID != "" {
		extra[attrConn] = &types.AttributeValueMemberS{Value: r.ConnectionID}
	}
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if w.ExpectedRev != 0 {
		cond = expression.Name("rev").Equal(expression.Value(w.ExpectedRev))
	}
	err = s.putRowIf(ctx, it, extra, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("order %s/%s at rev %d: %w", r.Tenant, r.ID, w.ExpectedRev, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put order %s/%s: %w", r.Tenant, r.ID, err)
	}
	return nil
}

// orderCursor is the position after the last order returned: its sort key and, when
// listing by ERP state, its gsi1 sort key. The partition keys are not in it but rebuilt
// from the caller's tenant, so a cursor cannot lead into another tenant's orders.
type orderCursor struct {
	SK  string `json:"s"`
	GSK string `json:"g,omitempty"`
}

func (c orderCursor) encode() string {
	b, _ := json.Marshal(c) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = fmt.Errorf("order listing: %w", store.ErrBadCursor)

func decodeOrderCursor(s string, byERP bool) (orderCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return orderCursor{}, errBadCursor
	}
	var c orderCursor
	if err := json.Unmarshal(b, &c); err != nil || !strings.HasPrefix(c.SK, skOrder) || byERP != (c.GSK != "") {
		return orderCursor{}, errBadCursor
	}
	return c, nil
}

// ListOrders queries the tenant's order partition (by id, strongly consistent) or, with
// an ERP state, that state's gsi1 partition (by offer time, eventually consistent).
// State and connection are filters, so the query pages on until it has limit+1
// matches: the extra one says whether a next page exists.
func (s *Store) ListOrders(ctx context.Context, tenant string, f store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("list orders of %s: limit %d must be positive", tenant, limit)
	}
	byERP := f.ERPState != domain.ERPNone
	b := expression.NewBuilder()
	if byERP {
		b = b.WithKeyCondition(expression.Key("gsi1pk").Equal(expression.Value(erpGSI(tenant, f.ERPState))))
	} else {
		b = b.WithKeyCondition(expression.Key("pk").Equal(expression.Value(ordersPK(tenant))))
	}
	b, filtered := withEquals(b, attrState, string(f.State), attrConn, f.ConnectionID)
	e, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("list orders of %s: build: %w", tenant, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    e.KeyCondition(),
		FilterExpression:          e.Filter(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	if byERP {
		in.IndexName = aws.String(gsi1)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	if !filtered {
		// Unfiltered, every row read is returned: read just enough. Filtered, let
		// DynamoDB fill its 1 MB pages rather than pay one round trip per few rows.
		in.Limit = aws.Int32(int32(min(limit+1, 1000)))
	}
	if cursor != "" {
		c, err := decodeOrderCursor(cursor, byERP)
		if err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
		}
		in.ExclusiveStartKey = keyOf(ordersPK(tenant), c.SK)
		if byERP {
			in.ExclusiveStartKey["gsi1pk"] = &types.AttributeValueMemberS{Value: erpGSI(tenant, f.ERPState)}
			in.ExclusiveStartKey["gsi1sk"] = &types.AttributeValueMemberS{Value: c.GSK}
		}
	}

	var (
		out  []domain.OrderRecord
		last orderCursor
	)
	for {
		page, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
		}
		for _, av := range page.Items {
			if len(out) == limit {
				return out, last.encode(), nil // a match beyond the page: there is more
			}
			var r domain.OrderRecord
			it, err := decode(av, &r)
			if err != nil {
				return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
			}
			out = append(out, r)
			last = orderCursor{SK: it.SK}
			if byERP {
				last.GSK = it.GSI1SK
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
