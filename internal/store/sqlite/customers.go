package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/store"
)

// GetCustomers returns the customers that exist among ids, one query per chunk of inChunk.
func (s *Store) GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error) {
	out := make(map[string]store.CustomerRecord, len(ids))
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenant)
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `SELECT data FROM customers WHERE tenant = ? AND customer_id IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := s.queryR(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("get customers of %s: %w", tenant, err)
		}
		recs, err := scanJSON[store.CustomerRecord](rows)
		if err != nil {
			return nil, fmt.Errorf("get customers of %s: %w", tenant, err)
		}
		for _, r := range recs {
			out[r.CustomerID] = r
		}
	}
	return out, nil
}

// PutCustomers applies all writes in one transaction, each conditional on its expected rev.
// A failed condition only marks errs[i]; the others still commit.
func (s *Store) PutCustomers(ctx context.Context, writes []store.CustomerWrite) ([]error, error) {
	errs := make([]error, len(writes))
	if len(writes) == 0 {
		return errs, nil
	}
	data := make([]string, len(writes))
	for i, w := range writes {
		if err := store.ValidateCustomerWrite(w); err != nil {
			errs[i] = err
			continue
		}
		b, err := json.Marshal(w.Record)
		if err != nil {
			errs[i] = fmt.Errorf("customer %s: encode: %w", w.Record.CustomerID, err)
			continue
		}
		data[i] = string(b)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put customers: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for i, w := range writes {
		if errs[i] != nil {
			continue
		}
		r := w.Record
		var res sql.Result
		if w.ExpectedRev == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO customers (tenant, customer_id, rev, data) VALUES (?, ?, ?, ?)
				ON CONFLICT (tenant, customer_id) DO NOTHING`, r.Tenant, r.CustomerID, r.Rev, data[i])
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE customers SET rev = ?, data = ? WHERE tenant = ? AND customer_id = ? AND rev = ?`,
				r.Rev, data[i], r.Tenant, r.CustomerID, w.ExpectedRev)
		}
		if err != nil {
			return nil, fmt.Errorf("put customers: customer %s: %w", r.CustomerID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("put customers: customer %s: %w", r.CustomerID, err)
		} else if n == 0 {
			errs[i] = fmt.Errorf("customer %s/%s at rev %d: %w", r.Tenant, r.CustomerID, w.ExpectedRev, store.ErrConflict)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put customers: commit: %w", err)
	}
	return errs, nil
}

// GetCustomerLink reads a customer's link on a connection.
func (s *Store) GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (store.CustomerLink, error) {
	var l store.CustomerLink
	err := s.getJSON(ctx, &l, `SELECT data FROM customer_links WHERE tenant = ? AND connection_id = ? AND customer_id = ?`,
		tenant, connectionID, customerID)
	if err != nil {
		return store.CustomerLink{}, fmt.Errorf("get customer link %s/%s: %w", connectionID, customerID, err)
	}
	return l, nil
}

// PutCustomerLink stores l unless a higher PushedVersion is stored; equal overwrites.
func (s *Store) PutCustomerLink(ctx context.Context, l store.CustomerLink) error {
	if l.Tenant == "" || l.ConnectionID == "" || l.CustomerID == "" {
		return fmt.Errorf("put customer link: tenant, connection and customer id are required")
	}
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("put customer link %s/%s: encode: %w", l.ConnectionID, l.CustomerID, err)
	}
	res, err := s.execW(ctx,
		`INSERT INTO customer_links (tenant, connection_id, customer_id, pushed_version, data) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (tenant, connection_id, customer_id) DO UPDATE SET pushed_version = excluded.pushed_version, data = excluded.data
		 WHERE customer_links.pushed_version <= excluded.pushed_version`,
		l.Tenant, l.ConnectionID, l.CustomerID, int64(l.PushedVersion), string(data))
	if err != nil {
		return fmt.Errorf("put customer link %s/%s: %w", l.ConnectionID, l.CustomerID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("put customer link %s/%s: %w", l.ConnectionID, l.CustomerID, err)
	}
	if n == 0 {
		return fmt.Errorf("put customer link %s/%s version %d: %w", l.ConnectionID, l.CustomerID, l.PushedVersion, store.ErrStale)
	}
	return nil
}
