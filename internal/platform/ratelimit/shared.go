package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Shared keeps every store's limit in one place all processes reach (a DynamoDB item on
// AWS), so the push, reconcile, orders and API functions, in however many execution
// environments, together hold each store to its limit.
//
// The limit is a token bucket in its GCRA form: the state is one time, TAT, and k
// tokens taken at now come due at ready = max(now, TAT + (k-1)·interval - burst), after
// which TAT = max(TAT, now) + k·interval. Due times then follow the GCRA schedule, and
// any span of length L holds at most floor((L+burst)/interval) + 1 of them. A request
// starts at most LeaseUse after its token is due and reaches the platform at most
// Flight after it starts, so the requests the platform counts in any Window came due
// within L = Window + Flight + LeaseUse; the interval is chosen so that span holds at
// most Limit: interval > L / (Limit - batch + 1), burst = (batch-1)·interval. The price
// of exactness without a release call per request is a sustained rate of
// (Limit-batch+1)/L instead of Limit/Window: Tray's 180 a minute with its 10 s timeout
// gives about 146 a minute.
//
// Each process leases up to batch tokens at once, as many as it has requests waiting,
// with one conditional write; a busy bucket schedules them ahead (at most a window, and
// never past the caller's deadline) rather than refusing, so processes queue behind one
// another instead of racing when tokens come due. A process whose view is stale loses
// one write and retries on the row the failure returned. Unused tokens lapse LeaseUse
// after they are due (they still count: that is what keeps the bound). The daily budget
// lives in the same row and is taken by the same write.
type Shared struct {
	Store TokenStore
	// Now is the clock (nil: time.Now). Every process's clock must agree to well under
	// an interval (NTP on Lambda keeps them within milliseconds).
	Now func() time.Time
}

// LeaseUse is how long leased tokens stay usable; later they are dropped.
const LeaseUse = 250 * time.Millisecond

// maxBatch caps the tokens one lease takes: a larger batch lowers the sustained rate
// (see Shared) for fewer store calls.
const maxBatch = 8

// TokenStore keeps buckets by key with compare-and-swap writes: the store's only
// guarantee needed is that one swap is atomic (DynamoDB's conditional write is).
type TokenStore interface {
	// SwapBucket writes next under key if the stored bucket still is old (same Rev; Rev 0
	// means none stored) and keeps it until expires. When another writer came first it
	// returns false and the bucket as stored now.
	SwapBucket(ctx context.Context, key string, old, next Bucket, expires time.Time) (swapped bool, current Bucket, err error)
}

// Bucket is the shared state of one store's limit.
type Bucket struct {
	// TAT is the theoretical arrival time of the next token (zero: never used).
	TAT time.Time
	// Day (UTC, YYYY-MM-DD) and Used count the daily budget.
	Day  string
	Used int
	// Rev counts writes; a swap succeeds only on the Rev it read.
	Rev int64
}

// plan is a rule's bucket geometry.
type plan struct {
	interval time.Duration
	batch    int
	burst    time.Duration
	daily    int
	ahead    time.Duration // the furthest ahead tokens are scheduled
	maxWait  time.Duration // 0: as long as the caller's deadline allows
	leaky    bool          // a bucket rule: Observe moves the bucket
}

func planFor(r Rule) plan {
	if r.Burst > 0 {
		return leakyPlan(r)
	}
	limit := max(r.Limit, 1)
	batch := min(max(limit/10, 1), maxBatch)
	span := r.Window + r.Flight + LeaseUse
	// Strictly above span/(limit-batch+1): one nanosecond more.
	interval := span/time.Duration(limit-batch+1) + time.Nanosecond
	return plan{interval: interval, batch: batch, burst: time.Duration(batch-1) * interval, daily: r.Daily,
		ahead: max(r.Window, interval), maxWait: r.MaxWait}
}

// leakyPlan is the geometry of a bucket rule: the store holds C = Burst units and
// drains one every T0 = Window/Limit; it accepts an arrival at t when, for every s <= t,
// the arrivals in [s, t] number at most C + (t-s)/T0. Tokens come due on the GCRA
// schedule (interval T, burst tolerance tau), so any span [u, v] holds at most
// floor((v-u+tau)/T) + 1 due times, and a request arrives at most D = Flight + LeaseUse
// after its token is due: the arrivals in [s, t] came due in [s-D, t], at most
// (t-s+D+tau)/T + 1 of them. With T >= T0 that is within C + (t-s)/T0 when
// tau <= (C-1)·T - D. So T = T0 and tau = (C-1)·T0 - D while the bucket is deep enough
// for the flight; otherwise tau = 0 and T = D/(C-1) (a bucket of one: T = T0 + D, so k
// due times in a span need k·T0 of it). The sustained rate is the store's own whenever
// (C-1)·T0 >= D: Nuvemshop's 40 at 2 a second with a 10 s timeout keeps 2 a second and
// a burst of 19.
func leakyPlan(r Rule) plan {
	c := r.Burst
	t0 := r.Window / time.Duration(max(r.Limit, 1))
	d := r.Flight + LeaseUse
	var interval, tau time.Duration
	switch {
	case c == 1:
		interval = t0 + d
	case time.Duration(c-1)*t0 >= d:
		interval, tau = t0, time.Duration(c-1)*t0-d
	default:
		interval = d/time.Duration(c-1) + time.Nanosecond
	}
	// One nanosecond more per token keeps every bound strict against rounding.
	interval += time.Nanosecond
	// A lease of k tokens at an empty bucket is due at once only if (k-1)·T <= tau.
	batch := min(max(c/10, 1), maxBatch, int(tau/interval)+1)
	return plan{interval: interval, batch: batch, burst: tau, daily: r.Daily,
		ahead: max(r.Window, interval), maxWait: r.MaxWait, leaky: true}
}

// observe is b holding at least used units at now: the store's word, as if those
// arrivals were tokens taken at now, which only ever pushes the schedule later.
func (p plan) observe(b Bucket, now time.Time, used int) (Bucket, bool) {
	tat := now.Add(time.Duration(used) * p.interval)
	// Small moves are not worth a write: our own tokens already sit in TAT.
	if !tat.After(b.TAT.Add(p.interval)) {
		return b, false
	}
	next := b
	next.TAT, next.Rev = tat, b.Rev+1
	return next, true
}

// take is the outcome of asking b for want tokens at now.
type take struct {
	tokens int           // granted; 0 when the daily budget is spent
	ready  time.Time     // when the tokens conform: now, or later when the bucket is busy
	daily  time.Duration // > 0: the daily budget is spent for this long
	next   Bucket        // the bucket after the grant
}

// take grants want tokens (fewer when the daily budget has fewer left), usable from
// ready on: a busy bucket schedules them ahead instead of refusing, so processes queue
// behind one another with one write each instead of racing when the tokens come due.
func (p plan) take(b Bucket, now time.Time, want int) take {
	want = min(max(want, 1), p.batch)
	next := b
	next.Rev++
	if p.daily > 0 {
		today := now.UTC().Format(time.DateOnly)
		if b.Day > today {
			today = b.Day // another process's clock is already in tomorrow: count there
		}
		used := 0
		if b.Day == today {
			used = b.Used
		}
		left := p.daily - used
		if left <= 0 {
			day, _ := time.Parse(time.DateOnly, today)
			return take{daily: day.AddDate(0, 0, 1).Sub(now)}
		}
		want = min(want, left)
		next.Day, next.Used = today, used+want
	}
	ready := now
	if b.TAT.After(now) {
		if r := b.TAT.Add(time.Duration(want-1)*p.interval - p.burst); r.After(now) {
			ready = r
		}
		next.TAT = b.TAT.Add(time.Duration(want) * p.interval)
	} else {
		next.TAT = now.Add(time.Duration(want) * p.interval)
	}
	return take{tokens: want, ready: ready, next: next}
}

// pause is b with nothing to take before until.
func (p plan) pause(b Bucket, until time.Time) (Bucket, bool) {
	tat := until.Add(p.burst)
	if !tat.After(b.TAT) {
		return b, false
	}
	next := b
	next.TAT, next.Rev = tat, b.Rev+1
	return next, true
}

// Limiter returns this process's lease holder for key's shared bucket.
func (s *Shared) Limiter(key string, r Rule) Limiter {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	return &sharedLimiter{store: s.Store, key: key, plan: planFor(r), now: now,
		keep: max(2*(r.Window+r.Flight), 48*time.Hour)}
}

type sharedLimiter struct {
	store TokenStore
	key   string
	plan  plan
	now   func() time.Time
	keep  time.Duration // how long the item outlives its last write

	mu       sync.Mutex
	bucket   Bucket    // as last seen
	tokens   int       // leased and unused
	leasedAt time.Time // when they were taken
	paused   time.Time
	leasing  bool          // one goroutine talks to the store at a time
	turn     chan struct{} // closed when the current lease attempt ends
	waiting  int           // goroutines waiting on turn
}

func (l *sharedLimiter) Acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		ok, wait := l.takeLeased()
		if ok {
			l.mu.Unlock()
			return nil
		}
		if wait > 0 {
			// Tokens leased for later: wait for them rather than lease more.
			l.mu.Unlock()
			if tooLong(ctx, wait, l.plan.maxWait) {
				return &TooLongError{Wait: wait}
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if l.leasing {
			turn := l.turn
			l.waiting++
			l.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-turn:
			}
			l.mu.Lock()
			l.waiting--
			l.mu.Unlock()
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		l.leasing, l.turn = true, make(chan struct{})
		l.mu.Unlock()

		err := l.lease(ctx)

		l.mu.Lock()
		l.leasing = false
		close(l.turn)
		l.mu.Unlock()
		if err != nil {
			return err
		}
		// Take a token of the new lease at the top, like the waiters just woken.
	}
}

// takeLeased hands out one leased token if one is usable now; wait > 0 says the leased
// tokens come due that much later. Tokens older than LeaseUse are dropped. Caller holds mu.
func (l *sharedLimiter) takeLeased() (ok bool, wait time.Duration) {
	if l.tokens == 0 {
		return false, 0
	}
	now := l.now()
	if now.Before(l.leasedAt) {
		return false, l.leasedAt.Sub(now)
	}
	if now.After(l.leasedAt.Add(LeaseUse)) {
		l.tokens = 0
		return false, 0
	}
	l.tokens--
	return true, 0
}

// lease takes tokens from the store for this and the waiting requests. It schedules
// them at most a window ahead, and never past ctx's deadline (a Lambda invocation would
// end before using them).
func (l *sharedLimiter) lease(ctx context.Context) error {
	for {
		l.mu.Lock()
		want, b, paused := l.waiting+1, l.bucket, l.paused
		l.mu.Unlock()
		now := l.now()
		if paused.After(now) {
			if tooLong(ctx, paused.Sub(now), l.plan.maxWait) {
				return &TooLongError{Wait: paused.Sub(now)}
			}
			if err := sleep(ctx, paused.Sub(now)); err != nil {
				return err
			}
			continue
		}
		t := l.plan.take(b, now, want)
		if t.daily > 0 {
			return &ExhaustedError{Daily: l.plan.daily, RetryAfter: t.daily}
		}
		if wait := t.ready.Sub(now); wait > 0 && tooLong(ctx, wait, l.plan.maxWait) {
			return fmt.Errorf("shared limit %s: next token at %s: %w", l.key, t.ready.Format(time.RFC3339Nano), &TooLongError{Wait: wait})
		}
		if ahead := t.ready.Sub(now); ahead > l.plan.ahead {
			// b may be stale, but buckets only move forward, so this wait is a lower bound.
			if err := sleep(ctx, ahead-l.plan.ahead); err != nil {
				return err
			}
			continue
		}
		swapped, cur, err := l.store.SwapBucket(ctx, l.key, b, t.next, now.Add(l.keep))
		if err != nil {
			return fmt.Errorf("take %d tokens of shared limit %s: %w", t.tokens, l.key, err)
		}
		l.mu.Lock()
		if swapped {
			l.bucket, l.tokens, l.leasedAt = t.next, t.tokens, t.ready
		} else if cur.Rev >= l.bucket.Rev {
			l.bucket = cur
		}
		l.mu.Unlock()
		if swapped {
			return nil
		}
	}
}

// Release does nothing: the bucket's interval already leaves each request Flight.
func (l *sharedLimiter) Release() {}

// moveTimeout bounds the store writes of a Pause or Observe (they run on the request's path).
const moveTimeout = 2 * time.Second

// Pause holds this process at once and tells the others through the bucket. A failed
// write is not reported: the local pause holds, and another process that calls anyway
// gets its own 429 and pauses itself.
func (l *sharedLimiter) Pause(d time.Duration) {
	until := l.now().Add(d)
	l.mu.Lock()
	if until.After(l.paused) {
		l.paused = until
	}
	l.tokens = 0
	l.mu.Unlock()
	l.move(func(b Bucket) (Bucket, bool) { return l.plan.pause(b, until) })
}

// Observe pushes the shared schedule back to what the store says its bucket holds, for
// every process; rolling-window rules ignore it. Like Pause, a failed write is dropped.
func (l *sharedLimiter) Observe(used int) {
	if !l.plan.leaky || used <= 0 {
		return
	}
	now := l.now()
	l.move(func(b Bucket) (Bucket, bool) { return l.plan.observe(b, now, used) })
}

// move writes step's bucket over the stored one, retrying on the row a lost swap
// returns, until step says there is nothing to change.
func (l *sharedLimiter) move(step func(Bucket) (Bucket, bool)) {
	l.mu.Lock()
	b := l.bucket
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
	defer cancel()
	for range 5 {
		next, ok := step(b)
		if !ok {
			return
		}
		swapped, cur, err := l.store.SwapBucket(ctx, l.key, b, next, l.now().Add(l.keep))
		if err != nil {
			return
		}
		if swapped {
			cur = next
		}
		l.mu.Lock()
		if cur.Rev > l.bucket.Rev {
			l.bucket = cur
		}
		l.mu.Unlock()
		if swapped {
			return
		}
		b = cur
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
