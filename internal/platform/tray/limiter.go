package tray

import (
	"context"
	"sync"
	"time"
)

// windowLimiter lets at most limit requests start in any window, counted the strict
// way: a request holds one of limit slots, and a slot is reusable only window after the
// previous request on it *finished*. A request reaches the server after it starts and
// before it finishes, so two requests on one slot always arrive more than window apart
// and the server's rolling count can never exceed limit, whatever the network delays.
// Starts are also paced evenly, window/limit apart: a lone change goes out at once, but a
// flood is spread over the window instead of spending the whole allowance in its first
// second, so the push backlog coalesces and the store gets each SKU's newest value once.
type windowLimiter struct {
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

func newWindowLimiter(limit int, window time.Duration, now func() time.Time) *windowLimiter {
	return &windowLimiter{
		limit: limit, window: window, spacing: window / time.Duration(limit), now: now,
		idle: make([]time.Time, limit), wake: make(chan struct{}),
	}
}

// acquire waits for a slot; call release when the request is over.
func (l *windowLimiter) acquire(ctx context.Context) error {
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

// release returns a slot, usable again one window from now.
func (l *windowLimiter) release() {
	l.mu.Lock()
	l.idle = append(l.idle, l.now().Add(l.window))
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

// pause holds every start until d from now (the platform asked us to wait).
func (l *windowLimiter) pause(d time.Duration) {
	l.mu.Lock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
	l.mu.Unlock()
}

// dailyCounter is the per-day request budget, per UTC day.
type dailyCounter struct {
	limit int
	mu    sync.Mutex
	day   string
	count int
}

// take counts one request, or reports how long until the budget resets.
func (d *dailyCounter) take(now time.Time) (ok bool, retryAfter time.Duration) {
	now = now.UTC()
	day := now.Format(time.DateOnly)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.day != day {
		d.day, d.count = day, 0
	}
	if d.count >= d.limit {
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		return false, midnight.Sub(now)
	}
	d.count++
	return true, 0
}
