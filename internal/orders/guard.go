package orders

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// ErrTooManyUnverified: a connection on a platform that signs nothing got more
// notifications than its cap allows; answered 429 (the order poll catches a real one).
var ErrTooManyUnverified = errors.New("too many unverifiable notifications for this connection")

// SettingUnverifiedPerMinute caps the notifications taken per minute, per connection, on
// platforms that sign nothing (Tray). A real store sends about one per order change.
const (
	SettingUnverifiedPerMinute = "unverified_webhooks_per_min"
	defaultUnverifiedPerMinute = 120
	maxUnverifiedPerMinute     = 60_000
	// missingMemory is how long an order id the platform said does not exist is answered
	// without a fetch; missingMemorySize bounds that memory however many ids are forged.
	missingMemory     = 10 * time.Minute
	missingMemorySize = 10_000
)

// guard holds the per-process defences against forged notifications: a token bucket
// per connection, and a short, bounded memory of order ids the platform does not have.
// In-process on purpose: each process sheds its own load, and the durable order poll is
// what guarantees a real order is never missed.
type guard struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	missing map[string]time.Time
}

func unverifiedPerMinute(c domain.Connection) int {
	if n, err := strconv.Atoi(c.Settings[SettingUnverifiedPerMinute]); err == nil && n > 0 {
		return n
	}
	return defaultUnverifiedPerMinute
}

// allow takes one token of the connection's bucket; the bucket is rebuilt when the
// setting changes.
func (g *guard) allow(c domain.Connection, now time.Time) bool {
	perMin := unverifiedPerMinute(c)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.buckets == nil {
		g.buckets = map[string]*rate.Limiter{}
	}
	b, ok := g.buckets[c.ID]
	if !ok || b.Burst() != perMin {
		b = rate.NewLimiter(rate.Limit(float64(perMin)/60), perMin)
		g.buckets[c.ID] = b
	}
	return b.AllowN(now, 1)
}

func missingKey(connID, orderID string) string { return connID + "\x00" + orderID }

// recentlyMissing says the platform answered "no such order" for this id lately.
func (g *guard) recentlyMissing(connID, orderID string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.missing[missingKey(connID, orderID)]
	return ok && now.Sub(at) < missingMemory
}

// rememberMissing notes an id the platform does not have, dropping expired entries (and,
// when still full, everything: forgetting only costs a fetch) to stay bounded.
func (g *guard) rememberMissing(connID, orderID string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.missing == nil {
		g.missing = map[string]time.Time{}
	}
	if len(g.missing) >= missingMemorySize {
		for k, at := range g.missing {
			if now.Sub(at) >= missingMemory {
				delete(g.missing, k)
			}
		}
		if len(g.missing) >= missingMemorySize {
			clear(g.missing)
		}
	}
	g.missing[missingKey(connID, orderID)] = now
}

func unsigned(c platform.Connector) bool {
	u, ok := c.(platform.UnsignedWebhooks)
	return ok && u.UnsignedWebhooks()
}

// notFound says a platform failure is "this order does not exist".
func notFound(err error) bool {
	pe := platform.AsError(err)
	return pe.Kind == platform.Permanent && pe.StatusCode == http.StatusNotFound
}
