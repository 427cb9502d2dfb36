package ratelimit

import (
	"context"
	"sync"
	"time"
)

// leaky is the in-process limiter of a bucket rule (Burst > 0): it mirrors the store's
// leaky bucket. Every request pours one unit in, the bucket leaks rate units a second,
// and a request that would overflow capacity is answered 429 by the store. We do not
// know when a request reaches the store, only that it is after it starts and before
// its answer comes back, and a later arrival leaves the store's bucket fuller (it
// leaked less meanwhile). So the mirror counts a request in flight as one full unit and
// pours it into the leaking level only when its answer arrives: a new request starts
// when level + in flight + 1 fits. The mirror is then never below the store's bucket,
// and a process alone on its bucket never sees a 429. Observe raises the level to what
// the store reports (someone else shares the bucket), and Pause fills it.
type leaky struct {
	capacity float64
	rate     float64 // units leaked per second
	maxWait  time.Duration
	now      func() time.Time

	mu       sync.Mutex
	level    float64   // answered requests, leaking
	inflight int       // started, not answered
	at       time.Time // when level was last brought up to date
	paused   time.Time // nothing starts before this
}

func newLeaky(r Rule, now func() time.Time) *leaky {
	return &leaky{capacity: float64(r.Burst), rate: float64(max(r.Limit, 1)) / r.Window.Seconds(),
		maxWait: r.MaxWait, now: now, at: now()}
}

// leak brings level up to date. Caller holds mu.
func (l *leaky) leak(now time.Time) {
	if now.After(l.at) {
		l.level -= now.Sub(l.at).Seconds() * l.rate
		if l.level < 0 {
			l.level = 0
		}
		l.at = now
	}
}

// Acquire waits until one more request fits in the bucket and counts it. A wait longer
// than the rule's MaxWait, or past ctx's deadline, is a *TooLongError at once.
func (l *leaky) Acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		l.leak(now)
		var wait time.Duration
		switch {
		case now.Before(l.paused):
			wait = l.paused.Sub(now)
		case l.level+float64(l.inflight)+1 <= l.capacity:
			l.inflight++
			l.mu.Unlock()
			return nil
		case float64(l.inflight)+1 > l.capacity:
			wait = time.Millisecond // only answers make room; poll until one comes
		default:
			// Round up so the retry finds the room made.
			wait = time.Duration((l.level+float64(l.inflight)+1-l.capacity)/l.rate*float64(time.Second)) + time.Millisecond
		}
		l.mu.Unlock()
		if tooLong(ctx, wait, l.maxWait) {
			return &TooLongError{Wait: wait}
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// tooLong says whether waiting wait exceeds maxWait (> 0) or ctx's deadline.
func tooLong(ctx context.Context, wait, maxWait time.Duration) bool {
	if maxWait > 0 && wait > maxWait {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < wait
}

// Release ends a request started with Acquire: it joins the leaking level.
func (l *leaky) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leak(l.now())
	l.inflight--
	l.level++
}

// Observe raises the level to what the store says is used.
func (l *leaky) Observe(used int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leak(l.now())
	l.level = max(l.level, min(float64(used), l.capacity))
}

// Pause records a 429: the store's bucket is full and it asked us to wait d.
func (l *leaky) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.leak(now)
	l.level = max(l.level, l.capacity)
	if until := now.Add(d); until.After(l.paused) {
		l.paused = until
	}
}
