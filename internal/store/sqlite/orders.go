package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// GetOrder reads one of a tenant's orders.
func (s *Store) GetOrder(ctx context.Context, tenant, id string) (domain.OrderRecord, error) {
	var r domain.OrderRecord
	if err := s.getJSON(ctx, &r, `SELECT data FROM orders WHERE tenant = ? AND id = ?`, tenant, id); err != nil {
		return domain.OrderRecord{}, fmt.Errorf("get order %s/%s: %w", tenant, id, err)
	}
	return r, nil
}

// PutOrder applies one optimistic write: an insert when ExpectedRev is 0, else an update
// conditional on the stored rev. No row touched means someone else wrote first.
func (s *Store) PutOrder(ctx context.Context, w store.OrderWrite) error {
	if err := store.ValidateOrderWrite(w); err != nil {
		return err
	}
	r := w.Record
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put order %s/%s: encode: %w", r.Tenant, r.ID, err)
	}
	var offered int64
	if r.ERP.OfferedAt != nil {
		offered = r.ERP.OfferedAt.UnixNano()
	}
	var res sql.Result
	if w.ExpectedRev == 0 {
		res, err = s.execW(ctx, `INSERT INTO orders (tenant, id, rev, state, erp_state, offered_at_ns, connection_id, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING`,
			r.Tenant, r.ID, r.Rev, string(r.State), string(r.ERP.State), offered, r.ConnectionID, string(data))
	} else {
		res, err = s.execW(ctx, `UPDATE orders SET rev = ?, state = ?, erp_state = ?, offered_at_ns = ?, connection_id = ?, data = ?
			WHERE tenant = ? AND id = ? AND rev = ?`,
			r.Rev, string(r.State), string(r.ERP.State), offered, r.ConnectionID, string(data), r.Tenant, r.ID, w.ExpectedRev)
	}
	if err != nil {
		return fmt.Errorf("put order %s/%s: %w", r.Tenant, r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("put order %s/%s: %w", r.Tenant, r.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("put order %s/%s at rev %d: %w", r.Tenant, r.ID, w.ExpectedRev, store.ErrConflict)
	}
	return nil
}

// orderCursor is the last sort key of a page. Offered is set only when listing by ERP
// state, so a cursor from one kind of listing cannot silently drive the other.
type orderCursor struct {
	Offered *int64 `json:"o,omitempty"`
	ID      string `json:"i"`
}

func encodeOrderCursor(c orderCursor) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeOrderCursor(s string, byOffered bool) (orderCursor, error) {
	var c orderCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && (c.ID == "" || (c.Offered != nil) != byOffered) {
		err = fmt.Errorf("cursor does not belong to this listing")
	}
	if err != nil {
		return orderCursor{}, fmt.Errorf("%w: %w", store.ErrBadCursor, err)
	}
	return c, nil
}

// ListOrders returns up to limit matching orders after cursor. It reads one row more than
// limit, so the last page reliably says next == "".
func (s *Store) ListOrders(ctx context.Context, tenant string, f store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("list orders of %s: limit %d must be positive", tenant, limit)
	}
	byOffered := f.ERPState != ""
	q := strings.Builder{}
	q.WriteString(`SELECT offered_at_ns, id, data FROM orders WHERE tenant = ?`)
	args := []any{tenant}
	for _, c := range []struct{ col, val string }{
		{"erp_state", string(f.ERPState)}, {"state", string(f.State)}, {"connection_id", f.ConnectionID},
	} {
		if c.val != "" {
			q.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.val)
		}
	}
	if cursor != "" {
		c, err := decodeOrderCursor(cursor, byOffered)
		if err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
		}
		if byOffered {
			q.WriteString(" AND (offered_at_ns, id) > (?, ?)")
			args = append(args, *c.Offered, c.ID)
		} else {
			q.WriteString(" AND id > ?")
			args = append(args, c.ID)
		}
	}
	if byOffered {
		q.WriteString(" ORDER BY offered_at_ns, id")
	} else {
		q.WriteString(" ORDER BY id")
	}
	q.WriteString(" LIMIT ?")
	args = append(args, limit+1)

	rows, err := s.queryR(ctx, q.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
	}
	defer rows.Close()
	var (
		out  []domain.OrderRecord
		last orderCursor
	)
	for rows.Next() {
		if len(out) == limit {
			next, err := encodeOrderCursor(last)
			if err != nil {
				return nil, "", fmt.Errorf("list orders of %s: cursor: %w", tenant, err)
			}
			return out, next, nil
		}
		var (
			offered int64
			id      string
			data    string
		)
		if err := rows.Scan(&offered, &id, &data); err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
		}
		var r domain.OrderRecord
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, "", fmt.Errorf("list orders of %s: decode %s: %w", tenant, id, err)
		}
		out = append(out, r)
		last = orderCursor{ID: id}
		if byOffered {
			last.Offered = &offered
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list orders of %s: %w", tenant, err)
	}
	return out, "", nil
}
