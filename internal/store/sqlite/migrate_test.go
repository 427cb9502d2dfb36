package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store/sqlite"
)

// TestOperatorKeyMigrationBackfills rolls a file back to schema 4 (no operator key
// column) while its tenant JSON already carries a hash, as a binary that knew the field
// before migration 5 would have left it; reopening must make that hash findable.
func TestOperatorKeyMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ponte.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []domain.Tenant{
		{ID: "t1", APIKeyHash: "api-1", OperatorKeyHash: "op-1"},
		{ID: "t2", APIKeyHash: "api-2"},
	} {
		if err := s.PutTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoRetention(),
		`ALTER TABLE idempotency DROP COLUMN owner`,
		`DROP INDEX tenants_operator_key`,
		`ALTER TABLE tenants DROP COLUMN operator_key_hash`,
		`UPDATE schema_version SET version = 4`,
	) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate from 4: %v", err)
	}
	defer s.Close()
	got, err := s.TenantByOperatorKeyHash(ctx, "op-1")
	if err != nil || got.ID != "t1" {
		t.Fatalf("op-1 after migration: %+v, %v", got, err)
	}
	if _, err := s.TenantByOperatorKeyHash(ctx, ""); err == nil {
		t.Error(`"" matched the tenant without an operator key`)
	}
}

// TestIdempotencyLeaseMigrationFreesOldClaims rolls a file back to schema 5, when an
// in-progress claim held its key for the whole TTL, and leaves such a claim behind as a
// crashed binary would; reopening must free it so the retry runs at once.
func TestIdempotencyLeaseMigrationFreesOldClaims(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ponte.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().Add(24 * time.Hour).UnixMilli()
	for _, q := range append(undoRetention(),
		`ALTER TABLE idempotency DROP COLUMN owner`,
		`UPDATE schema_version SET version = 5`,
		fmt.Sprintf(`INSERT INTO idempotency VALUES ('stuck', 'h', 'in_progress', 0, NULL, %d)`, day),
		fmt.Sprintf(`INSERT INTO idempotency VALUES ('done', 'h', 'completed', 202, x'7b7d', %d)`, day),
	) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate from 5: %v", err)
	}
	defer s.Close()
	for _, tc := range []struct {
		key         string
		wantClaimed bool
	}{{"stuck", true}, {"done", false}} {
		rec, claimed, err := s.ClaimIdempotency(ctx, tc.key, "h", time.Minute)
		if err != nil || claimed != tc.wantClaimed {
			t.Errorf("claim %s after migration: claimed=%v (%+v), %v; want claimed=%v", tc.key, claimed, rec, err, tc.wantClaimed)
		}
	}
}
