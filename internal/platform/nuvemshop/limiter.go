package nuvemshop

import (
	"context"
	"sync"
	"time"
)

// bucketLimiter mirrors Nuvemshop's leaky bucket for one connection: every request
// pours one unit in, the bucket leaks rate units a second, and a request that would
// overflow capacity is answered 429. We do not know when a request reaches the
// platform, only that it is after it starts and before its answer comes back, and a
// later arrival leaves the platform's bucket fuller (it leaked less meanwhile). So the
// mirror counts a request in flight as one full unit, and pours it into the leaking
// level only when its answer arrives: a new request starts when level + in flight + 1
// fits. The mirror is then never below the platform's bucket, and a connection alone
// on its bucket never sees a 429. The platform's x-rate-limit-* headers raise the
// level when someone else (another process of the app, a Lambda twin) shares the
// bucket, and a 429 fills it and pauses the connection for the platform's reset hint.
type bucketLimiter struct {
	capacity float64
	rate     float64 // units leaked per second
	now      func() time.Time

	mu       sync.Mutex
	level    float64   // answered requests, leaking
	inflight int       // started, not answered
	at       time.Time // when level was last brought up to date
	paused   time.Time // nothing starts before this
}

func newBucketLimiter(capacity, rate float64, now func() time.Time) *bucketLimiter {
	return &bucketLimiter{capacity: capacity, rate: rate, now: now, at: now()}
}

// leak brings level up to date. Caller holds mu.
func (l *bucketLimiter) leak(now time.Time) {
	if now.After(l.at) {
		l.level -= now.Sub(l.at).Seconds() * l.rate
		if l.level < 0 {
			l.level = 0
		}
		l.at = now
	}
}

// tooLongError says the connection would have to wait longer than allowed.
type tooLongError struct{ wait time.Duration }

func (e *tooLongError) Error() string { return "rate limit wait of " + e.wait.String() }

// acquire waits until one more request fits in the bucket and counts it. When the wait
// would exceed maxWait it gives up at once with a *tooLongError (the caller answers
// RateLimited with that wait as the hint instead of holding a worker).
func (l *bucketLimiter) acquire(ctx context.Context, maxWait time.Duration) error {
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
		if wait > maxWait {
			return &tooLongError{wait: wait}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// done ends a request started with acquire: it joins the leaking level. When the
// platform's headers came back (limit > 0), the level is at least what they say is
// used (limit - remaining, scaled to our capacity). wait > 0 records a 429: the
// platform's bucket is full and it asked us to hold off that long (its reset hint).
func (l *bucketLimiter) done(limit, remaining int, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.leak(now)
	l.inflight--
	l.level++
	if limit > 0 && remaining >= 0 && remaining <= limit {
		if used := float64(limit-remaining) / float64(limit) * l.capacity; used > l.level {
			l.level = used
		}
	}
	if wait > 0 {
		l.level = max(l.level, l.capacity)
		if until := now.Add(wait); until.After(l.paused) {
			l.paused = until
		}
	}
}
