package sqlite

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// ListSKUs pages through a tenant's SKU aggregates by primary key.
func (s *Store) ListSKUs(ctx context.Context, tenant, cursor string, limit int) ([]domain.SKUState, string, error) {
	out, next, err := listPage[domain.SKUState](ctx, s, skuListing, tenant, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list skus of %s: %w", tenant, err)
	}
	return out, next, nil
}

// ListCustomers pages through a tenant's customers by primary key.
func (s *Store) ListCustomers(ctx context.Context, tenant, cursor string, limit int) ([]store.CustomerRecord, string, error) {
	out, next, err := listPage[store.CustomerRecord](ctx, s, customerListing, tenant, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list customers of %s: %w", tenant, err)
	}
	return out, next, nil
}

// listing is one tenant-keyed table paged by its second key column. The query is fixed
// text (never built from input), so the statement cache holds one per listing.
type listing struct {
	name  string // tags cursors, so one listing's cursor cannot drive another
	query string // args: tenant, last key, limit; selects key, data ordered by key
}

var (
	skuListing = listing{name: "skus",
		query: `SELECT sku, data FROM skus WHERE tenant = ? AND sku > ? ORDER BY sku LIMIT ?`}
	customerListing = listing{name: "customers",
		query: `SELECT customer_id, data FROM customers WHERE tenant = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`}
)

// listCursor is the last key of a page. Keys are never empty (writes refuse them), so
// an empty After starts the first page.
type listCursor struct {
	Listing string `json:"l"`
	After   string `json:"a"`
}

func encodeListCursor(c listCursor) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeListCursor(s, listing string) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && (c.Listing != listing || c.After == "") {
		err = fmt.Errorf("cursor does not belong to this listing")
	}
	if err != nil {
		return listCursor{}, fmt.Errorf("%w: %w", store.ErrBadCursor, err)
	}
	return c, nil
}

// listPage reads one row more than limit, so the last page reliably says next == "".
func listPage[T any](ctx context.Context, s *Store, l listing, tenant, cursor string, limit int) ([]T, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("limit %d must be positive", limit)
	}
	var after string
	if cursor != "" {
		c, err := decodeListCursor(cursor, l.name)
		if err != nil {
			return nil, "", err
		}
		after = c.After
	}
	rows, err := s.queryR(ctx, l.query, tenant, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		if len(out) == limit {
			next, err := encodeListCursor(listCursor{Listing: l.name, After: after})
			if err != nil {
				return nil, "", fmt.Errorf("cursor: %w", err)
			}
			return out, next, nil
		}
		var data string
		if err := rows.Scan(&after, &data); err != nil {
			return nil, "", err
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", after, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return out, "", nil
}
