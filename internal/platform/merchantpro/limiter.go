package merchantpro

import (
	"context"
	"sync"
	"time"
)

// windowLimiter admits at most limit requests in any window, counted conservatively: a
// request occupies one of limit slots, and a slot can start a new request only a full
// window after its previous request *ended*. Each request reaches the shop between its
// start and its end, so any two requests on one slot arrive more than a window apart,
// and the shop's rolling count never exceeds limit, whatever the latency. Bursts of
// up to limit go out at once. A 429 wait hint pauses every slot.
type windowLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	ready   []time.Time // when each free slot may start again, in release order
	holdTil time.Time   // nothing starts before this (wait hints)
	changed chan struct{}
}

func newWindowLimiter(limit int, window time.Duration) *windowLimiter {
	return &windowLimiter{limit: limit, window: window, ready: make([]time.Time, limit), changed: make(chan struct{})}
}

// acquire blocks until a slot is free (or ctx ends); release it when the request ends.
func (l *windowLimiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		wait := time.Duration(-1) // no free slot: wait for a release
		if len(l.ready) > 0 {
			at := l.ready[0]
			if l.holdTil.After(at) {
				at = l.holdTil
			}
			if !at.After(now) {
				l.ready = l.ready[1:]
				l.mu.Unlock()
				return nil
			}
			wait = at.Sub(now)
		}
		changed := l.changed
		l.mu.Unlock()

		var timeout <-chan time.Time
		var t *time.Timer
		if wait >= 0 {
			t = time.NewTimer(wait)
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		case <-changed:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// release frees a slot, usable again a window from now.
func (l *windowLimiter) release() {
	l.mu.Lock()
	l.ready = append(l.ready, time.Now().Add(l.window))
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// hold stops new requests for d (the shop asked us to wait).
func (l *windowLimiter) hold(d time.Duration) {
	l.mu.Lock()
	if until := time.Now().Add(d); until.After(l.holdTil) {
		l.holdTil = until
	}
	l.mu.Unlock()
}
