// Package sqlite is the embedded Store: one SQLite file in WAL mode through the pure-Go
// modernc.org/sqlite driver. Aggregates are JSON columns (money stays a decimal string);
// every key is a real, indexed column.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store implements store.Store and platform.Secrets.
type Store struct {
	// write has exactly one connection: SQLite allows one writer, and queuing writers in
	// Go is cheaper and fairer than letting them spin on SQLITE_BUSY.
	write *sql.DB
	// read is a pool; WAL lets readers run alongside the writer.
	read *sql.DB

	writeStmts, readStmts *stmtCache

	// keep is how long history stays before PurgeExpired deletes it (0: store.DefaultRetention).
	keep time.Duration
}

// Open opens (creating if needed) the database file at path and migrates its schema.
// path must be a file: two pools on ":memory:" would see two different databases.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite store: need a file path, got %q", path)
	}
	write, err := openPool(path, true)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &Store{write: write, writeStmts: newStmtCache(write)}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		_ = write.Close()
		return nil, err
	}
	// The read pool opens after migration so journal_mode=WAL is already set on the file.
	read, err := openPool(path, false)
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	s.read = read
	s.readStmts = newStmtCache(read)
	return s, nil
}

func openPool(path string, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
		// half-way when upgrading from a read lock.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	return db, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	if s.readStmts != nil {
		s.readStmts.close()
	}
	if s.writeStmts != nil {
		s.writeStmts.close()
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite store: close: %w", err)
	}
	return nil
}

// migrations run in order; the schema_version table remembers how many were applied.
// Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE tenants (
		id TEXT PRIMARY KEY,
		api_key_hash TEXT NOT NULL,
		data TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX tenants_api_key ON tenants(api_key_hash) WHERE api_key_hash <> '';

	CREATE TABLE connections (
		id TEXT PRIMARY KEY,
		tenant TEXT NOT NULL,
		data TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX connections_tenant ON connections(tenant, id);

	CREATE TABLE skus (
		tenant TEXT NOT NULL,
		sku TEXT NOT NULL,
		rev INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, sku)
	) WITHOUT ROWID;

	CREATE TABLE mappings (
		tenant TEXT NOT NULL,
		sku TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		product_id TEXT NOT NULL,
		variant_id TEXT NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, sku, connection_id)
	) WITHOUT ROWID;
	CREATE INDEX mappings_platform ON mappings(connection_id, product_id, variant_id);

	CREATE TABLE desired (
		tenant TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		sku TEXT NOT NULL,
		rev INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, connection_id, sku)
	) WITHOUT ROWID;

	CREATE TABLE pushed (
		tenant TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		sku TEXT NOT NULL,
		rev INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, connection_id, sku)
	) WITHOUT ROWID;

	CREATE TABLE idempotency (
		key TEXT PRIMARY KEY,
		request_hash TEXT NOT NULL,
		status TEXT NOT NULL,
		status_code INTEGER NOT NULL,
		response BLOB,
		expires_at_ms INTEGER NOT NULL
	);
	CREATE INDEX idempotency_expiry ON idempotency(expires_at_ms);

	CREATE TABLE secrets (
		ref TEXT PRIMARY KEY,
		data TEXT NOT NULL
	) WITHOUT ROWID;`,
	`CREATE TABLE customers (
		tenant TEXT NOT NULL,
		customer_id TEXT NOT NULL,
		rev INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, customer_id)
	) WITHOUT ROWID;

	CREATE TABLE customer_links (
		tenant TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		customer_id TEXT NOT NULL,
		pushed_version INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, connection_id, customer_id)
	) WITHOUT ROWID;`,
	// Orders: times used for ordering are integer Unix nanoseconds so they sort exactly.
	`CREATE TABLE deliveries (
		connection_id TEXT NOT NULL,
		id TEXT NOT NULL,
		received_at_ns INTEGER NOT NULL,
		processed INTEGER NOT NULL DEFAULT 0,
		data TEXT NOT NULL,
		PRIMARY KEY (connection_id, id)
	) WITHOUT ROWID;
	CREATE INDEX deliveries_unprocessed ON deliveries(received_at_ns, connection_id, id) WHERE processed = 0;

	CREATE TABLE orders (
		tenant TEXT NOT NULL,
		id TEXT NOT NULL,
		rev INTEGER NOT NULL,
		state TEXT NOT NULL,
		erp_state TEXT NOT NULL,
		offered_at_ns INTEGER NOT NULL,
		connection_id TEXT NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID;
	CREATE INDEX orders_erp ON orders(tenant, erp_state, offered_at_ns, id);
	CREATE INDEX orders_state ON orders(tenant, state, id);
	CREATE INDEX orders_connection ON orders(tenant, connection_id, id);

	CREATE TABLE purchase_needs (
		tenant TEXT NOT NULL,
		order_id TEXT NOT NULL,
		sku TEXT NOT NULL,
		supplier TEXT NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, order_id, sku)
	) WITHOUT ROWID;
	CREATE INDEX purchase_needs_supplier ON purchase_needs(tenant, supplier, sku, order_id);

	CREATE TABLE cursors (
		name TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID;`,
	// Jobs: started_at_ns sorts a tenant's runs newest first exactly.
	`CREATE TABLE jobs (
		tenant TEXT NOT NULL,
		id TEXT NOT NULL,
		rev INTEGER NOT NULL,
		kind TEXT NOT NULL,
		connection_id TEXT NOT NULL,
		started_at_ns INTEGER NOT NULL,
		data TEXT NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID;
	CREATE INDEX jobs_started ON jobs(tenant, started_at_ns DESC, id DESC);`,
	// Operator keys: the backfill takes hashes already in the JSON data (written by a
	// binary that knew the field before this column existed).
	`ALTER TABLE tenants ADD COLUMN operator_key_hash TEXT NOT NULL DEFAULT '';
	UPDATE tenants SET operator_key_hash = COALESCE(json_extract(data, '$.operator_key_hash'), '');
	CREATE UNIQUE INDEX tenants_operator_key ON tenants(operator_key_hash) WHERE operator_key_hash <> '';`,
	// Idempotency claims are leases with a holder: only the holder renews, completes or
	// releases. An in-progress row from before was claimed for a whole TTL by a binary
	// that is no longer running (it holds the file while it runs): it is freed now.
	`ALTER TABLE idempotency ADD COLUMN owner TEXT NOT NULL DEFAULT '';
	UPDATE idempotency SET expires_at_ms = 0 WHERE status = 'in_progress';`,
	// Retention: history (finished jobs, processed deliveries) gets an expiry the purge
	// deletes by (retention.go); rows already history get the default 30 days from when
	// they became history. Job listings by connection and/or kind get their own indexes,
	// so "the newest N" reads N rows however many jobs are stored.
	`ALTER TABLE jobs ADD COLUMN expires_at_ns INTEGER;
	UPDATE jobs SET expires_at_ns = (unixepoch(COALESCE(json_extract(data, '$.finished_at'), json_extract(data, '$.updated_at'))) + 2592000) * 1000000000
		WHERE json_extract(data, '$.status') <> 'running';
	CREATE INDEX jobs_expiry ON jobs(expires_at_ns) WHERE expires_at_ns IS NOT NULL;
	CREATE INDEX jobs_connection_kind ON jobs(tenant, connection_id, kind, started_at_ns DESC, id DESC);
	CREATE INDEX jobs_connection ON jobs(tenant, connection_id, started_at_ns DESC, id DESC);
	CREATE INDEX jobs_kind ON jobs(tenant, kind, started_at_ns DESC, id DESC);
	ALTER TABLE deliveries ADD COLUMN expires_at_ns INTEGER;
	UPDATE deliveries SET expires_at_ns = (unixepoch(json_extract(data, '$.processed_at')) + 2592000) * 1000000000
		WHERE processed = 1 AND json_extract(data, '$.processed_at') IS NOT NULL;
	CREATE INDEX deliveries_expiry ON deliveries(expires_at_ns) WHERE expires_at_ns IS NOT NULL;`,
	// The dead-letter index: the failure inbox per tenant and connection (deadletters.go).
	deadLettersSchema,
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: migrate: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite store: migrate: version table: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("sqlite store: migrate: init version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("sqlite store: migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("sqlite store: schema version %d is newer than this binary (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("sqlite store: migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return fmt.Errorf("sqlite store: migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: migrate: commit: %w", err)
	}
	return nil
}
