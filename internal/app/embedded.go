package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/platforms"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// Queue settings of the embedded backend. Push attempts are bounded by the worker policy
// (which dead-letters with a reason); MaxReceives is the safety net above it.
const (
	embeddedVisibility  = 30 * time.Second
	embeddedMaxReceives = 20
)

// OpenEmbedded opens (creating) the embedded backend in dir: state.db and queue.db, SQLite
// in WAL mode, credentials sealed with the keyring and keys hashed with the pepper of
// keys.LoadKeyring and keys.LoadHasher (generated in dir on first start when not given).
func OpenEmbedded(ctx context.Context, dir string, log *slog.Logger) (*Hub, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	ring, err := keys.LoadKeyring(dir, log)
	if err != nil {
		return nil, err
	}
	hasher, err := keys.LoadHasher(dir, log)
	if err != nil {
		return nil, err
	}
	retention, err := RetentionFromEnv()
	if err != nil {
		return nil, err
	}
	st, err := storesqlite.Open(ctx, filepath.Join(dir, "state.db"), storesqlite.WithRetention(retention))
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	h := &Hub{Backend: "embedded", Store: st, Keys: hasher, Log: log}
	h.closers = append(h.closers, st.Close)
	sealed, resealed, err := st.SealSecrets(ctx, ring)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("open embedded secrets: %w", err)
	}
	if resealed > 0 {
		log.Info("credentials re-sealed under the current key", "secrets", resealed, "current_key", ring.Current())
	}
	h.Secrets = sealed
	broker, err := queuesqlite.OpenBroker(ctx, filepath.Join(dir, "queue.db"))
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("open embedded queue: %w", err)
	}
	h.closers = append(h.closers, broker.Close)
	h.Changes, err = broker.Queue("changes", queuesqlite.Config{VisibilityTimeout: embeddedVisibility, MaxReceives: embeddedMaxReceives})
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("open changes queue: %w", err)
	}
	h.OrderQueue, err = broker.Queue("orders", queuesqlite.Config{VisibilityTimeout: embeddedVisibility, MaxReceives: embeddedMaxReceives})
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("open orders queue: %w", err)
	}
	h.EventQueue, err = broker.Queue("events", queuesqlite.Config{FIFO: true, VisibilityTimeout: embeddedVisibility, MaxReceives: embeddedMaxReceives})
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("open events queue: %w", err)
	}
	h.PushQueues = map[string]queue.Queue{}
	for _, p := range platforms.Names() {
		q, err := broker.Queue(pushQueueName(p), queuesqlite.Config{FIFO: true, VisibilityTimeout: embeddedVisibility, MaxReceives: embeddedMaxReceives})
		if err != nil {
			_ = h.Close()
			return nil, fmt.Errorf("open push queue %s: %w", p, err)
		}
		h.PushQueues[p] = q
	}
	// One process makes every platform call: the limits stay in it, exact and free.
	h.RateLimits = ratelimit.Local{}
	h.Connectors = platforms.Connectors(h.Secrets, h.RateLimits, log)
	h.wire()
	return h, nil
}
