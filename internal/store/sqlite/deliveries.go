package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// PutDelivery stores d unless (ConnectionID, ID) is already stored; the first body wins.
func (s *Store) PutDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	if d.ConnectionID == "" || d.ID == "" {
		return false, errors.New("put delivery: connection and id are required")
	}
	d.ReceivedAt = d.ReceivedAt.UTC()
	data, err := json.Marshal(d)
	if err != nil {
		return false, fmt.Errorf("put delivery %s/%s: encode: %w", d.ConnectionID, d.ID, err)
	}
	res, err := s.execW(ctx, `INSERT INTO deliveries (connection_id, id, received_at_ns, processed, expires_at_ns, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, id) DO NOTHING`,
		d.ConnectionID, d.ID, d.ReceivedAt.UnixNano(), boolInt(d.ProcessedAt != nil), expiryNanos(store.DeliveryExpiry(d, s.retention())), string(data))
	if err != nil {
		return false, fmt.Errorf("put delivery %s/%s: %w", d.ConnectionID, d.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("put delivery %s/%s: %w", d.ConnectionID, d.ID, err)
	}
	return n == 1, nil
}

// GetDelivery reads one delivery.
func (s *Store) GetDelivery(ctx context.Context, connectionID, id string) (store.Delivery, error) {
	var d store.Delivery
	if err := s.getJSON(ctx, &d, `SELECT data FROM deliveries WHERE connection_id = ? AND id = ?`, connectionID, id); err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s/%s: %w", connectionID, id, err)
	}
	return d, nil
}

// MarkDeliveryProcessed sets ProcessedAt and Outcome. It reads and rewrites the JSON in
// one write transaction, so it cannot interleave with another write of the row.
func (s *Store) MarkDeliveryProcessed(ctx context.Context, connectionID, id, outcome string, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark delivery %s/%s: begin: %w", connectionID, id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var data string
	err = tx.QueryRowContext(ctx, `SELECT data FROM deliveries WHERE connection_id = ? AND id = ?`, connectionID, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mark delivery %s/%s: %w", connectionID, id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mark delivery %s/%s: %w", connectionID, id, err)
	}
	var d store.Delivery
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return fmt.Errorf("mark delivery %s/%s: decode: %w", connectionID, id, err)
	}
	done := at.UTC()
	d.ProcessedAt, d.Outcome = &done, outcome
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("mark delivery %s/%s: encode: %w", connectionID, id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET processed = 1, expires_at_ns = ?, data = ? WHERE connection_id = ? AND id = ?`,
		expiryNanos(store.DeliveryExpiry(d, s.retention())), string(b), connectionID, id); err != nil {
		return fmt.Errorf("mark delivery %s/%s: %w", connectionID, id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark delivery %s/%s: commit: %w", connectionID, id, err)
	}
	return nil
}

// ListUnprocessedDeliveries returns up to limit unprocessed deliveries received before
// `before`, oldest first, through the partial index on unprocessed rows.
func (s *Store) ListUnprocessedDeliveries(ctx context.Context, before time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list unprocessed deliveries: limit %d must be positive", limit)
	}
	rows, err := s.queryR(ctx, `SELECT data FROM deliveries WHERE processed = 0 AND received_at_ns < ?
		ORDER BY received_at_ns, connection_id, id LIMIT ?`, before.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("list unprocessed deliveries: %w", err)
	}
	out, err := scanJSON[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list unprocessed deliveries: %w", err)
	}
	return out, nil
}

// PutPurchaseNeeds stores needs in one transaction, replacing any with the same
// (tenant, order, SKU) even when the supplier changed.
func (s *Store) PutPurchaseNeeds(ctx context.Context, needs []domain.PurchaseNeed) error {
	if len(needs) == 0 {
		return nil
	}
	data := make([]string, len(needs))
	for i, n := range needs {
		if n.Tenant == "" || n.OrderID == "" || n.SKU == "" {
			return fmt.Errorf("put purchase needs: need %d: tenant, order id and sku are required", i)
		}
		b, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("put purchase needs: order %s sku %s: encode: %w", n.OrderID, n.SKU, err)
		}
		data[i] = string(b)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put purchase needs: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for i, n := range needs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO purchase_needs (tenant, order_id, sku, supplier, data) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant, order_id, sku) DO UPDATE SET supplier = excluded.supplier, data = excluded.data`,
			n.Tenant, n.OrderID, n.SKU, n.Supplier, data[i]); err != nil {
			return fmt.Errorf("put purchase needs: order %s sku %s: %w", n.OrderID, n.SKU, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put purchase needs: commit: %w", err)
	}
	return nil
}

// DeletePurchaseNeeds removes an order's needs; none stored is not an error.
func (s *Store) DeletePurchaseNeeds(ctx context.Context, tenant, orderID string) error {
	if _, err := s.execW(ctx, `DELETE FROM purchase_needs WHERE tenant = ? AND order_id = ?`, tenant, orderID); err != nil {
		return fmt.Errorf("delete purchase needs of %s/%s: %w", tenant, orderID, err)
	}
	return nil
}

// ListPurchaseNeeds returns a tenant's needs (of one supplier unless supplier is ""),
// ordered by supplier, SKU, order id.
func (s *Store) ListPurchaseNeeds(ctx context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if supplier == "" {
		rows, err = s.queryR(ctx, `SELECT data FROM purchase_needs WHERE tenant = ? ORDER BY supplier, sku, order_id`, tenant)
	} else {
		rows, err = s.queryR(ctx, `SELECT data FROM purchase_needs WHERE tenant = ? AND supplier = ? ORDER BY sku, order_id`, tenant, supplier)
	}
	if err != nil {
		return nil, fmt.Errorf("list purchase needs of %s: %w", tenant, err)
	}
	out, err := scanJSON[domain.PurchaseNeed](rows)
	if err != nil {
		return nil, fmt.Errorf("list purchase needs of %s: %w", tenant, err)
	}
	return out, nil
}

// GetCursor reads a named cursor; "" when never set.
func (s *Store) GetCursor(ctx context.Context, name string) (string, error) {
	var v string
	err := s.scanRowR(ctx, `SELECT value FROM cursors WHERE name = ?`, []any{name}, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", name, err)
	}
	return v, nil
}

// PutCursor stores a named cursor.
func (s *Store) PutCursor(ctx context.Context, name, value string) error {
	if _, err := s.execW(ctx, `INSERT INTO cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value); err != nil {
		return fmt.Errorf("put cursor %s: %w", name, err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
