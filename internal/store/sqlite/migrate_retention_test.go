package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/store/sqlite"
)

// undoMigration holds, per schema version, the statements that take a file from that
// version back to the one before, for tests that check an older migration on a file
// rolled back to it. A new migration adds its entry here.
var undoMigration = map[int][]string{
	7: {
		`DROP INDEX jobs_expiry`,
		`DROP INDEX jobs_connection_kind`,
		`DROP INDEX jobs_connection`,
		`DROP INDEX jobs_kind`,
		`ALTER TABLE jobs DROP COLUMN expires_at_ns`,
		`DROP INDEX deliveries_expiry`,
		`ALTER TABLE deliveries DROP COLUMN expires_at_ns`,
	},
	8: {`DROP TABLE dead_letters`},
}

// undoRetention rolls a file back from the newest schema to schema 6, the one before
// the retention migration (7); the caller then undoes older ones and sets the version.
func undoRetention() []string {
	var out []string
	for v := len(undoMigration) + 6; v > 6; v-- {
		out = append(out, undoMigration[v]...)
	}
	return out
}

// TestRetentionMigrationBackfills rolls a file back to schema 6 holding a finished job,
// a running one and a processed and an unprocessed delivery; after the migration the
// history expires 30 days after it became history, and the live rows never.
func TestRetentionMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ponte.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	jobs := []store.Job{
		{Tenant: "t", ID: "done", Kind: store.JobReconcile, ConnectionID: "c", Status: store.JobDone,
			StartedAt: finished.Add(-time.Hour), UpdatedAt: finished, FinishedAt: &finished, Rev: 1},
		{Tenant: "t", ID: "live", Kind: store.JobReconcile, ConnectionID: "c", Status: store.JobRunning,
			StartedAt: finished, UpdatedAt: finished, Rev: 1},
	}
	for _, j := range jobs {
		if err := s.PutJob(ctx, j, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"processed", "pending"} {
		if _, err := s.PutDelivery(ctx, store.Delivery{ConnectionID: "c", ID: id, Tenant: "t", Platform: "tray",
			Event: json.RawMessage(`{}`), ReceivedAt: finished}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkDeliveryProcessed(ctx, "c", "processed", "accepted", finished); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range append(undoRetention(), `UPDATE schema_version SET version = 6`) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate from 6: %v", err)
	}
	defer s.Close()
	want := finished.Add(store.DefaultRetention).UnixNano()
	tests := []struct {
		query, key string
		want       sql.NullInt64
	}{
		{`SELECT expires_at_ns FROM jobs WHERE id = ?`, "done", sql.NullInt64{Int64: want, Valid: true}},
		{`SELECT expires_at_ns FROM jobs WHERE id = ?`, "live", sql.NullInt64{}},
		{`SELECT expires_at_ns FROM deliveries WHERE id = ?`, "processed", sql.NullInt64{Int64: want, Valid: true}},
		{`SELECT expires_at_ns FROM deliveries WHERE id = ?`, "pending", sql.NullInt64{}},
	}
	for _, tc := range tests {
		var got sql.NullInt64
		if err := db.QueryRowContext(ctx, tc.query, tc.key).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if got != tc.want {
			t.Errorf("%s expires at %v, want %v", tc.key, got, tc.want)
		}
	}
}
