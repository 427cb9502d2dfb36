package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// inChunk bounds the IN list of one GetSKUs query, well under SQLite's variable limit.
const inChunk = 500

// GetSKUs returns the aggregates that exist among skus, one query per chunk of inChunk.
func (s *Store) GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error) {
	out := make(map[string]domain.SKUState, len(skus))
	for start := 0; start < len(skus); start += inChunk {
		chunk := skus[start:min(start+inChunk, len(skus))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenant)
		for _, sku := range chunk {
			args = append(args, sku)
		}
		q := `SELECT data FROM skus WHERE tenant = ? AND sku IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := s.queryR(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("get skus of %s: %w", tenant, err)
		}
		states, err := scanJSON[domain.SKUState](rows)
		if err != nil {
			return nil, fmt.Errorf("get skus of %s: %w", tenant, err)
		}
		for _, st := range states {
			out[st.SKU] = st
		}
	}
	return out, nil
}

// PutSKUs applies all writes in one transaction, each conditional on its expected rev.
// A failed condition only marks errs[i]; the others still commit.
func (s *Store) PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error) {
	errs := make([]error, len(writes))
	if len(writes) == 0 {
		return errs, nil
	}
	// Encode before taking the write lock: the lock is the scarce resource.
	data := make([]string, len(writes))
	for i, w := range writes {
		if err := validateSKUWrite(w); err != nil {
			errs[i] = err
			continue
		}
		b, err := json.Marshal(w.State)
		if err != nil {
			errs[i] = fmt.Errorf("sku %s: encode: %w", w.State.SKU, err)
			continue
		}
		data[i] = string(b)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put skus: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	insert, err := tx.PrepareContext(ctx,
		`INSERT INTO skus (tenant, sku, rev, data) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, sku) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("put skus: prepare insert: %w", err)
	}
	defer insert.Close()
	update, err := tx.PrepareContext(ctx,
		`UPDATE skus SET rev = ?, data = ? WHERE tenant = ? AND sku = ? AND rev = ?`)
	if err != nil {
		return nil, fmt.Errorf("put skus: prepare update: %w", err)
	}
	defer update.Close()
	for i, w := range writes {
		if errs[i] != nil {
			continue
		}
		var res sql.Result
		if w.ExpectedRev == 0 {
			res, err = insert.ExecContext(ctx, w.State.Tenant, w.State.SKU, w.State.Rev, data[i])
		} else {
			res, err = update.ExecContext(ctx, w.State.Rev, data[i], w.State.Tenant, w.State.SKU, w.ExpectedRev)
		}
		if err != nil {
			// A statement error may leave the transaction unusable: fail the whole call.
			return nil, fmt.Errorf("put skus: sku %s: %w", w.State.SKU, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("put skus: sku %s: %w", w.State.SKU, err)
		} else if n == 0 {
			errs[i] = fmt.Errorf("sku %s/%s at rev %d: %w", w.State.Tenant, w.State.SKU, w.ExpectedRev, store.ErrConflict)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put skus: commit: %w", err)
	}
	return errs, nil
}

func validateSKUWrite(w store.SKUWrite) error {
	switch {
	case w.State.Tenant == "" || w.State.SKU == "":
		return fmt.Errorf("sku write: tenant and sku are required")
	case w.State.Rev != w.ExpectedRev+1:
		return fmt.Errorf("sku %s: rev %d must be expected rev %d + 1", w.State.SKU, w.State.Rev, w.ExpectedRev)
	}
	return nil
}

// PutMapping creates or replaces the mapping of (tenant, connection, sku).
func (s *Store) PutMapping(ctx context.Context, m domain.Mapping) error {
	if m.Tenant == "" || m.ConnectionID == "" || m.SKU == "" || m.ProductID == "" {
		return fmt.Errorf("put mapping: tenant, connection, sku and product id are required")
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("put mapping %s/%s: encode: %w", m.ConnectionID, m.SKU, err)
	}
	_, err = s.write.ExecContext(ctx,
		`INSERT INTO mappings (tenant, sku, connection_id, product_id, variant_id, data) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (tenant, sku, connection_id) DO UPDATE SET
		   product_id = excluded.product_id, variant_id = excluded.variant_id, data = excluded.data`,
		m.Tenant, m.SKU, m.ConnectionID, m.ProductID, m.VariantID, string(data))
	if err != nil {
		return fmt.Errorf("put mapping %s/%s: %w", m.ConnectionID, m.SKU, err)
	}
	return nil
}

// GetMapping reads one connection's mapping of a SKU.
func (s *Store) GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error) {
	var m domain.Mapping
	err := s.getJSON(ctx, &m, `SELECT data FROM mappings WHERE tenant = ? AND sku = ? AND connection_id = ?`,
		tenant, sku, connectionID)
	if err != nil {
		return domain.Mapping{}, fmt.Errorf("get mapping %s/%s: %w", connectionID, sku, err)
	}
	return m, nil
}

// ListMappings returns every connection's mapping of one SKU, ordered by connection.
func (s *Store) ListMappings(ctx context.Context, tenant, sku string) ([]domain.Mapping, error) {
	rows, err := s.queryR(ctx,
		`SELECT data FROM mappings WHERE tenant = ? AND sku = ? ORDER BY connection_id`, tenant, sku)
	if err != nil {
		return nil, fmt.Errorf("list mappings of %s: %w", sku, err)
	}
	out, err := scanJSON[domain.Mapping](rows)
	if err != nil {
		return nil, fmt.Errorf("list mappings of %s: %w", sku, err)
	}
	return out, nil
}

// MappingByPlatformID finds the SKU mapped to a platform product/variant on a connection.
func (s *Store) MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error) {
	var m domain.Mapping
	err := s.getJSON(ctx, &m,
		`SELECT data FROM mappings WHERE connection_id = ? AND product_id = ? AND variant_id = ? ORDER BY sku LIMIT 1`,
		connectionID, productID, variantID)
	if err != nil {
		return domain.Mapping{}, fmt.Errorf("mapping by platform id %s/%s/%s: %w", connectionID, productID, variantID, err)
	}
	return m, nil
}

// PutDesired stores d unless a state with Rev >= d.Rev is stored.
func (s *Store) PutDesired(ctx context.Context, d domain.DesiredState) error {
	return s.putRevved(ctx, "desired", "<", d.Tenant, d.ConnectionID, d.SKU, d.Rev, d)
}

// PutDesiredMany stores each state unless a newer or equal revision is stored, all in one
// transaction: fan-out writes a batch of SKUs with one commit instead of one per state.
func (s *Store) PutDesiredMany(ctx context.Context, ds []domain.DesiredState) ([]error, error) {
	errs := make([]error, len(ds))
	if len(ds) == 0 {
		return errs, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put desired states: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for i, d := range ds {
		if d.Tenant == "" || d.ConnectionID == "" || d.SKU == "" {
			errs[i] = fmt.Errorf("put desired: tenant, connection and sku are required")
			continue
		}
		data, err := json.Marshal(d)
		if err != nil {
			errs[i] = fmt.Errorf("put desired %s/%s: encode: %w", d.ConnectionID, d.SKU, err)
			continue
		}
		res, err := tx.ExecContext(ctx, sqlPutDesired, d.Tenant, d.ConnectionID, d.SKU, d.Rev, string(data))
		if err != nil {
			return nil, fmt.Errorf("put desired %s/%s: %w", d.ConnectionID, d.SKU, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("put desired %s/%s: %w", d.ConnectionID, d.SKU, err)
		} else if n == 0 {
			errs[i] = fmt.Errorf("put desired %s/%s rev %d: %w", d.ConnectionID, d.SKU, d.Rev, store.ErrStale)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put desired states: commit: %w", err)
	}
	return errs, nil
}

const sqlPutDesired = `INSERT INTO desired (tenant, connection_id, sku, rev, data) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (tenant, connection_id, sku) DO UPDATE SET rev = excluded.rev, data = excluded.data
	WHERE desired.rev < excluded.rev`

// GetDesired reads a connection's desired state of a SKU.
func (s *Store) GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error) {
	var d domain.DesiredState
	if err := s.getRevved(ctx, "desired", tenant, connectionID, sku, &d); err != nil {
		return domain.DesiredState{}, err
	}
	return d, nil
}

// PutPushed stores p unless a state with Rev > p.Rev is stored; equal Rev overwrites,
// so a re-push of the same revision (say after reconcile) records its new time.
func (s *Store) PutPushed(ctx context.Context, p domain.PushedState) error {
	return s.putRevved(ctx, "pushed", "<=", p.Tenant, p.ConnectionID, p.SKU, p.Rev, p)
}

// GetPushed reads what was last pushed to a connection for a SKU.
func (s *Store) GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error) {
	var p domain.PushedState
	if err := s.getRevved(ctx, "pushed", tenant, connectionID, sku, &p); err != nil {
		return domain.PushedState{}, err
	}
	return p, nil
}

// putRevved upserts into table ("desired" or "pushed", constants) only when the stored
// rev compares to the new one with op; otherwise the write is stale.
func (s *Store) putRevved(ctx context.Context, table, op, tenant, conn, sku string, rev int64, v any) error {
	if tenant == "" || conn == "" || sku == "" {
		return fmt.Errorf("put %s: tenant, connection and sku are required", table)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put %s %s/%s: encode: %w", table, conn, sku, err)
	}
	res, err := s.execW(ctx,
		`INSERT INTO `+table+` (tenant, connection_id, sku, rev, data) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (tenant, connection_id, sku) DO UPDATE SET rev = excluded.rev, data = excluded.data
		 WHERE `+table+`.rev `+op+` excluded.rev`,
		tenant, conn, sku, rev, string(data))
	if err != nil {
		return fmt.Errorf("put %s %s/%s: %w", table, conn, sku, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("put %s %s/%s: %w", table, conn, sku, err)
	}
	if n == 0 {
		return fmt.Errorf("put %s %s/%s rev %d: %w", table, conn, sku, rev, store.ErrStale)
	}
	return nil
}

func (s *Store) getRevved(ctx context.Context, table, tenant, conn, sku string, dst any) error {
	err := s.getJSON(ctx, dst, `SELECT data FROM `+table+` WHERE tenant = ? AND connection_id = ? AND sku = ?`,
		tenant, conn, sku)
	if err != nil {
		return fmt.Errorf("get %s %s/%s: %w", table, conn, sku, err)
	}
	return nil
}
