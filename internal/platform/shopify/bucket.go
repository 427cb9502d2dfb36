package shopify

import (
	"context"
	"sync"
	"time"
)

// costBucket mirrors Shopify's leaky bucket of query-cost points for one connection
// (per app and shop): it holds up to size points, refills at rate points a second, and a
// query may start only when the bucket holds its requested cost, which it takes at
// once. Answers carry the server's throttleStatus; the bucket then refunds what the
// query did not use and never believes it holds more than the server said.
type costBucket struct {
	cfgSize, cfgRate float64 // as configured (immutable), to notice settings changes
	now              func() time.Time

	mu         sync.Mutex
	size, rate float64 // lowered to the server's numbers when it reports lower ones
	avail      float64
	at         time.Time
	paused     time.Time
}

func newCostBucket(size, rate float64, now func() time.Time) *costBucket {
	return &costBucket{cfgSize: size, cfgRate: rate, size: size, rate: rate, now: now, avail: size, at: now()}
}

// refill brings avail up to now. Caller holds mu.
func (b *costBucket) refill(now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.avail = min(b.size, b.avail+d.Seconds()*b.rate)
		b.at = now
	}
}

// acquire waits until cost points are available (or a pause ends) and takes them.
func (b *costBucket) acquire(ctx context.Context, cost float64) error {
	for {
		b.mu.Lock()
		cost := min(cost, b.size) // a query larger than the bucket waits for a full one
		now := b.now()
		b.refill(now)
		var wait time.Duration
		switch {
		case b.paused.After(now):
			wait = b.paused.Sub(now)
		case b.avail >= cost:
			b.avail -= cost
			b.mu.Unlock()
			return nil
		default:
			wait = time.Duration((cost - b.avail) / b.rate * float64(time.Second))
		}
		b.mu.Unlock()
		wait = max(wait, time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// settle refunds unused points and adopts the server's view when it is lower.
func (b *costBucket) settle(requested, actual float64, ts *throttleStatus) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	if actual >= 0 && actual < requested {
		b.avail = min(b.size, b.avail+requested-actual)
	}
	if ts != nil {
		if ts.MaximumAvailable > 0 && ts.MaximumAvailable < b.size {
			b.size = ts.MaximumAvailable
		}
		if ts.RestoreRate > 0 && ts.RestoreRate < b.rate {
			b.rate = ts.RestoreRate
		}
		if ts.CurrentlyAvailable >= 0 && ts.CurrentlyAvailable < b.avail {
			b.avail = ts.CurrentlyAvailable
		}
		b.avail = min(b.avail, b.size)
	}
}

// refund returns points of a query that never reached Shopify's executor.
func (b *costBucket) refund(points float64) {
	b.mu.Lock()
	b.avail = min(b.size, b.avail+points)
	b.mu.Unlock()
}

// pause holds every start for d (the server asked us to wait).
func (b *costBucket) pause(d time.Duration) {
	b.mu.Lock()
	if until := b.now().Add(d); until.After(b.paused) {
		b.paused = until
	}
	b.mu.Unlock()
}

// waitFor is how long until cost points would be available at the given state.
func waitFor(cost float64, ts *throttleStatus) time.Duration {
	if ts == nil || ts.RestoreRate <= 0 {
		return time.Second
	}
	missing := cost - ts.CurrentlyAvailable
	if missing <= 0 {
		return 100 * time.Millisecond
	}
	return time.Duration(missing/ts.RestoreRate*float64(time.Second)) + 50*time.Millisecond
}
