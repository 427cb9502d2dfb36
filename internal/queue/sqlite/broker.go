// Package sqlite is the embedded implementation of the queue port: a durable queue on
// SQLite (modernc.org/sqlite, pure Go) in WAL mode. Many named queues share one file.
//
// Durability: every Send commits before it returns. The file runs with synchronous=NORMAL,
// which in WAL mode survives a crash of the process (the threat model of the local binary);
// an OS crash or power cut may lose the last few commits.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config describes one named queue.
type Config struct {
	// FIFO orders delivery per message group: only the oldest message of a group is
	// deliverable, and only while no message of that group is in flight.
	FIFO bool
	// VisibilityTimeout hides a received message; defaults to 30s.
	VisibilityTimeout time.Duration
	// MaxReceives moves a message to dead letters when a receive would exceed it; 0 = unlimited.
	MaxReceives int
}

// Broker owns the database file and the queues in it.
type Broker struct {
	db     *sql.DB
	closed chan struct{}
	once   sync.Once

	stmts map[string]*sql.Stmt // read-only after OpenBroker

	mu     sync.Mutex
	queues map[string]*Queue
}

// The head column marks the messages that may be delivered: every message of a standard
// queue, and the oldest message of each group of a FIFO queue. Keeping it materialised
// makes Receive a range scan on a partial index instead of a per-group search.
const schema = `
CREATE TABLE IF NOT EXISTS queues (
	name TEXT PRIMARY KEY,
	fifo INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	queue         TEXT    NOT NULL,
	body          BLOB    NOT NULL,
	grp           TEXT    NOT NULL DEFAULT '',
	key           TEXT    NOT NULL DEFAULT '',
	sent_at       INTEGER NOT NULL,
	visible_at    INTEGER NOT NULL,
	receive_count INTEGER NOT NULL DEFAULT 0,
	receipt       TEXT,
	in_flight     INTEGER NOT NULL DEFAULT 0,
	head          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_at, id) WHERE head = 1;
CREATE INDEX IF NOT EXISTS messages_group ON messages(queue, grp, id);
CREATE INDEX IF NOT EXISTS messages_key ON messages(queue, key) WHERE key <> '' AND in_flight = 0;
CREATE TABLE IF NOT EXISTS dead_letters (
	id       INTEGER PRIMARY KEY,
	queue    TEXT    NOT NULL,
	body     BLOB    NOT NULL,
	grp      TEXT    NOT NULL DEFAULT '',
	key      TEXT    NOT NULL DEFAULT '',
	reason   TEXT    NOT NULL,
	attempts INTEGER NOT NULL,
	sent_at  INTEGER NOT NULL,
	dead_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_queue ON dead_letters(queue, dead_at, id);
`

// OpenBroker opens (creating if needed) the queue database at path.
func OpenBroker(ctx context.Context, path string) (*Broker, error) {
	// _txlock=immediate takes the write lock at BEGIN, so a second process waits on
	// busy_timeout instead of failing a lock upgrade midway.
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open queue db %s: %w", path, err)
	}
	// One connection: SQLite serialises writers anyway, and it rules out SQLITE_BUSY
	// between goroutines of this process.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create queue schema in %s: %w", path, err)
	}
	b := &Broker{db: db, closed: make(chan struct{}), queues: map[string]*Queue{}, stmts: map[string]*sql.Stmt{}}
	for _, query := range hotStatements {
		s, err := db.PrepareContext(ctx, query)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("prepare %q: %w", query, err)
		}
		b.stmts[query] = s
	}
	return b, nil
}

// Close closes the database and wakes any Receive waiting on it.
func (b *Broker) Close() error {
	b.once.Do(func() { close(b.closed) })
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close queue db: %w", err)
	}
	return nil
}

// stmt returns the statement prepared at open for query, or nil. No lock: stmts is
// never written after OpenBroker (and b.mu may be held by Queue waiting for the connection).
func (b *Broker) stmt(query string) *sql.Stmt { return b.stmts[query] }

// Queue returns the named queue, registering it on first use. A queue's FIFO flag is
// stored and cannot change later; timeouts and max receives may.
func (b *Broker) Queue(name string, cfg Config) (*Queue, error) {
	if name == "" {
		return nil, errors.New("queue name is empty")
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = 30 * time.Second
	}
	if cfg.MaxReceives < 0 {
		return nil, fmt.Errorf("queue %s: max receives %d is negative", name, cfg.MaxReceives)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.queues[name]; ok {
		if q.cfg != cfg {
			return nil, fmt.Errorf("queue %s already open with a different config", name)
		}
		return q, nil
	}
	ctx := context.Background()
	if _, err := b.db.ExecContext(ctx, `INSERT OR IGNORE INTO queues(name, fifo) VALUES(?, ?)`, name, cfg.FIFO); err != nil {
		return nil, fmt.Errorf("register queue %s: %w", name, err)
	}
	var fifo bool
	if err := b.db.QueryRowContext(ctx, `SELECT fifo FROM queues WHERE name = ?`, name).Scan(&fifo); err != nil {
		return nil, fmt.Errorf("read queue %s: %w", name, err)
	}
	if fifo != cfg.FIFO {
		return nil, fmt.Errorf("queue %s was created with fifo=%t", name, fifo)
	}
	q := &Queue{b: b, name: name, cfg: cfg, sig: newSignal()}
	b.queues[name] = q
	return q, nil
}

// signal is a broadcast: wake closes the current channel and installs a fresh one.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) wake() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}
