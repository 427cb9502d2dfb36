package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PutTenant creates or replaces a tenant. A key hash already owned by another tenant is
// refused with store.ErrConflict: one key must reach exactly one tenant.
func (s *Store) PutTenant(ctx context.Context, t domain.Tenant) error {
	if t.ID == "" {
		return fmt.Errorf("put tenant: empty id")
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put tenant %s: encode: %w", t.ID, err)
	}
	// Replacing the row replaces both key columns, so a rotated key stops matching at once.
	_, err = s.write.ExecContext(ctx,
		`INSERT INTO tenants (id, api_key_hash, operator_key_hash, data) VALUES (?, ?, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET api_key_hash = excluded.api_key_hash,
		 operator_key_hash = excluded.operator_key_hash, data = excluded.data`,
		t.ID, t.APIKeyHash, t.OperatorKeyHash, string(data))
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("put tenant %s: api or operator key hash belongs to another tenant: %w", t.ID, store.ErrConflict)
		}
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	return nil
}

// GetTenant reads a tenant by id.
func (s *Store) GetTenant(ctx context.Context, id string) (domain.Tenant, error) {
	var t domain.Tenant
	if err := s.getJSON(ctx, &t, `SELECT data FROM tenants WHERE id = ?`, id); err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantByAPIKeyHash finds the tenant whose key hashes to keyHash.
func (s *Store) TenantByAPIKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error) {
	if keyHash == "" {
		// A tenant without a key must never match an empty bearer token.
		return domain.Tenant{}, fmt.Errorf("tenant by api key: empty hash: %w", store.ErrNotFound)
	}
	var t domain.Tenant
	if err := s.getJSON(ctx, &t, `SELECT data FROM tenants WHERE api_key_hash = ?`, keyHash); err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by api key: %w", err)
	}
	return t, nil
}

// TenantByOperatorKeyHash finds the tenant whose operator key hashes to keyHash.
func (s *Store) TenantByOperatorKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error) {
	if keyHash == "" {
		// "" means "no operator key": it must never open a tenant's operator views.
		return domain.Tenant{}, fmt.Errorf("tenant by operator key: empty hash: %w", store.ErrNotFound)
	}
	var t domain.Tenant
	if err := s.getJSON(ctx, &t, `SELECT data FROM tenants WHERE operator_key_hash = ?`, keyHash); err != nil {
		return domain.Tenant{}, fmt.Errorf("tenant by operator key: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]domain.Tenant, error) {
	rows, err := s.queryR(ctx, `SELECT data FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out, err := scanJSON[domain.Tenant](rows)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// PutConnection creates or replaces a connection.
func (s *Store) PutConnection(ctx context.Context, c domain.Connection) error {
	if c.ID == "" || c.Tenant == "" {
		return fmt.Errorf("put connection: id and tenant are required")
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put connection %s: encode: %w", c.ID, err)
	}
	_, err = s.write.ExecContext(ctx,
		`INSERT INTO connections (id, tenant, data) VALUES (?, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, data = excluded.data`,
		c.ID, c.Tenant, string(data))
	if err != nil {
		return fmt.Errorf("put connection %s: %w", c.ID, err)
	}
	return nil
}

// GetConnection reads a connection by id.
func (s *Store) GetConnection(ctx context.Context, id string) (domain.Connection, error) {
	var c domain.Connection
	if err := s.getJSON(ctx, &c, `SELECT data FROM connections WHERE id = ?`, id); err != nil {
		return domain.Connection{}, fmt.Errorf("get connection %s: %w", id, err)
	}
	return c, nil
}

// ListConnections returns a tenant's connections ordered by id.
func (s *Store) ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error) {
	rows, err := s.queryR(ctx, `SELECT data FROM connections WHERE tenant = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list connections of %s: %w", tenant, err)
	}
	out, err := scanJSON[domain.Connection](rows)
	if err != nil {
		return nil, fmt.Errorf("list connections of %s: %w", tenant, err)
	}
	return out, nil
}

// getJSON reads one JSON column into dst; no row is store.ErrNotFound.
func (s *Store) getJSON(ctx context.Context, dst any, query string, args ...any) error {
	var data string
	err := s.scanRowR(ctx, query, args, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(data), dst); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// scanJSON decodes every row's single JSON column and closes rows.
func scanJSON[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
