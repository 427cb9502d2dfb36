// Package ratelimit holds the per-connection request limiter the connectors share.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Window lets at most limit requests start in any window, counted the strict
// way: a request holds one of limit slots, and a slot is reusable only window after the
// previous request on it *finished*. A request reaches the server after it starts and
// before it finishes, so two requests on one slot always arrive more than window apart
// and the server's rolling count can never exceed limit, whatever the network delays.
// Starts are also paced evenly, window/limit apart: a lone change goes out at once, but a
// flood is spread over the window instead of spending the whole allowance in its first
// second, so the push backlog coalesces and the store gets each SKU's newest value once.
type Window struct {
	limit   int
	window  time.Duration
	spacing time.Duration
	now     func() time.Time

	mu        sync.Mutex
	idle      []time.Time // ready times of idle slots, oldest first (pushed in time order)
	paused    time.Time   // nothing starts before this (set from 429 wait hints)
	nextStart time.Time   // the pace: the earliest next start
	wake      chan struct{}
}

// NewWindow allows limit requests per window, paced window/limit apart, on the clock now.
func NewWindow(limit int, window time.Duration, now func() time.Time) *Window {
	return &Window{
		limit: limit, window: window, spacing: window / time.Duration(limit), now: now,
		idle: make([]time.Time, limit), wake: make(chan struct{}),
	}
}

// Acquire waits for a slot, or for ctx to end; call Release when the request is over.
func (l *Window) Acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		var wait time.Duration = -1
		if len(l.idle) > 0 {
			ready := l.idle[0]
			if l.paused.After(ready) {
				ready = l.paused
			}
			if l.nextStart.After(ready) {
				ready = l.nextStart
			}
			if !ready.After(now) {
				l.idle = l.idle[1:]
				l.nextStart = now.Add(l.spacing)
				l.mu.Unlock()
				return nil
			}
			wait = ready.Sub(now)
		}
		wake := l.wake
		l.mu.Unlock()

		var t *time.Timer
		var timer <-chan time.Time
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-timer:
		case <-wake:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Release returns a slot, usable again one window from now.
func (l *Window) Release() {
	l.mu.Lock()
	l.idle = append(l.idle, l.now().Add(l.window))
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

// Pause holds every start until d from now (the platform asked us to wait).
func (l *Window) Pause(d time.Duration) {
	l.mu.Lock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
	l.mu.Unlock()
}

// Limit is the number of requests allowed per window.
func (l *Window) Limit() int { return l.limit }

// Period is the window's length.
func (l *Window) Period() time.Duration { return l.window }
