package woocommerce

import (
	"context"
	"sync"
	"time"
)

// windowLimiter keeps a connection at most limit requests per window, however the
// calls overlap. It holds limit slots; a request takes a slot when it starts, and the
// slot becomes usable again one window after that request *ended*. Two requests on
// one slot therefore reach the server more than a window apart, so a server counting
// any rolling window never sees more than limit, whatever the network delay. Bursts
// up to limit go out at once.
type windowLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	ready  []time.Time // when each idle slot may be used, in release order
	paused time.Time   // nothing starts before this (the platform asked us to wait)
	notify chan struct{}
}

func newWindowLimiter(limit int, window time.Duration, now func() time.Time) *windowLimiter {
	return &windowLimiter{limit: limit, window: window, now: now,
		ready: make([]time.Time, limit), notify: make(chan struct{})}
}

// acquire blocks until a slot is free (or ctx ends); call release afterwards.
func (l *windowLimiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		wait := time.Duration(-1) // -1: no idle slot, wait for a release
		if len(l.ready) > 0 {
			at := l.ready[0]
			if l.paused.After(at) {
				at = l.paused
			}
			if !at.After(now) {
				l.ready = l.ready[1:]
				l.mu.Unlock()
				return nil
			}
			wait = at.Sub(now)
		}
		notify := l.notify
		l.mu.Unlock()

		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-fire:
		case <-notify:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// release gives the slot back, usable one window from now.
func (l *windowLimiter) release() {
	l.mu.Lock()
	l.ready = append(l.ready, l.now().Add(l.window))
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

// pause holds every new request of the connection until d from now.
func (l *windowLimiter) pause(d time.Duration) {
	l.mu.Lock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
	l.mu.Unlock()
}
