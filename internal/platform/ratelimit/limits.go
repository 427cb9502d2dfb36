package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Rule is a store's published limit: at most Limit requests reach it in any Window, and
// at most Daily a UTC day (0: no daily budget). With Burst > 0 it is a leaky bucket
// instead: the store holds up to Burst requests and drains Limit per Window
// (Nuvemshop's 40 draining 2 a second is Limit 1, Window 500ms, Burst 40).
type Rule struct {
	Limit  int
	Window time.Duration
	Daily  int
	Burst  int
	// Flight is the longest a request can take from its start to reaching the platform:
	// its timeout. The in-process limiter does not need it (it frees a slot only when the
	// answer is back); the shared one counts starts, so it leaves Flight of room.
	Flight time.Duration
	// MaxWait > 0 makes Acquire refuse at once with a *TooLongError when the next start
	// is further away than this, so a worker reports the wait instead of holding on.
	// Bucket rules (Burst > 0) honour it; rolling windows wait for their slot.
	MaxWait time.Duration
}

// Limiter bounds one connection's requests. Acquire before each request and Release
// when its answer is back; Pause when the platform asked to wait.
type Limiter interface {
	// Acquire waits until a request may start, or ctx ends. A spent daily budget is an
	// *ExhaustedError at once (waiting for midnight would hold a worker for hours).
	Acquire(ctx context.Context) error
	// Release ends a request started with Acquire.
	Release()
	// Pause holds every start until d from now (a 429 and its wait hint).
	Pause(d time.Duration)
	// Observe takes the platform's word that its bucket holds used of the rule's Burst
	// units now (rate-limit headers), when someone the limiter does not see shares it.
	// Only bucket rules (Burst > 0) use it.
	Observe(used int)
}

// Limits hands out the limiter of a connection. Key names the store's counter (the
// connector's platform, connection and address); every call with the same key and
// backend counts against the same limit.
type Limits interface {
	Limiter(key string, r Rule) Limiter
}

// ExhaustedError says the daily budget is spent until RetryAfter from now (midnight UTC).
type ExhaustedError struct {
	Daily      int
	RetryAfter time.Duration
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("daily limit of %d requests reached; next request in %s", e.Daily, e.RetryAfter.Round(time.Second))
}

// TooLongError says the next start is Wait away, longer than the rule's MaxWait or the
// caller's deadline allow. It is a context.DeadlineExceeded.
type TooLongError struct {
	Wait time.Duration
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("rate limit wait of %s", e.Wait.Round(time.Millisecond))
}

// Unwrap makes the error a context.DeadlineExceeded.
func (e *TooLongError) Unwrap() error { return context.DeadlineExceeded }

// Local keeps limits in this process: exact when one process makes every call to the
// store, as the embedded backend's `ponte serve` does. The window runs on the real
// clock (its timers do); Now is the daily budget's clock (nil: time.Now).
type Local struct {
	Now func() time.Time
}

// Limiter returns a new in-process limiter for r.
func (l Local) Limiter(_ string, r Rule) Limiter {
	now := l.Now
	if now == nil {
		now = time.Now
	}
	if r.Burst > 0 {
		return newLeaky(r, time.Now)
	}
	ll := &localLimiter{window: NewWindow(r.Limit, r.Window, time.Now), now: now}
	if r.Daily > 0 {
		ll.daily = &dailyCounter{limit: r.Daily}
	}
	return ll
}

type localLimiter struct {
	window *Window
	daily  *dailyCounter // nil: no daily budget
	now    func() time.Time
}

func (l *localLimiter) Acquire(ctx context.Context) error {
	if l.daily != nil {
		if ok, wait := l.daily.take(l.now()); !ok {
			return &ExhaustedError{Daily: l.daily.limit, RetryAfter: wait}
		}
	}
	return l.window.Acquire(ctx)
}

func (l *localLimiter) Release()              { l.window.Release() }
func (l *localLimiter) Pause(d time.Duration) { l.window.Pause(d) }

// Observe does nothing: a rolling window has no bucket level to learn.
func (l *localLimiter) Observe(int) {}

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
		return false, untilMidnight(now)
	}
	d.count++
	return true, 0
}

// untilMidnight is the time from now to the next UTC midnight.
func untilMidnight(now time.Time) time.Duration {
	now = now.UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return midnight.Sub(now)
}

// Slot keeps a connection's limiter across calls and rebuilds it when the rule or the
// key changes (settings were edited), so every connector caches limiters the same way.
type Slot struct {
	cur atomic.Pointer[builtLimiter]
}

type builtLimiter struct {
	key  string
	rule Rule
	lim  Limiter
}

// Get returns the slot's limiter for key and r, building it from limits when needed.
func (s *Slot) Get(limits Limits, key string, r Rule) Limiter {
	for {
		old := s.cur.Load()
		if old != nil && old.key == key && old.rule == r {
			return old.lim
		}
		// Two callers seeing a change build one limiter each; one wins and both use it.
		b := &builtLimiter{key: key, rule: r, lim: limits.Limiter(key, r)}
		if s.cur.CompareAndSwap(old, b) {
			return b.lim
		}
	}
}
