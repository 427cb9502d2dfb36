package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// The in-process bucket rule mirrors the store's leaky bucket (moved from Nuvemshop's
// connector with its test): in-flight requests hold a unit, answers leak, the store's
// headers raise the level, a 429 fills it and pauses.
func TestLeakyLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	l := newLeaky(Rule{Limit: 2, Window: time.Second, Burst: 4, MaxWait: time.Nanosecond}, clk.now)
	within := func(maxWait time.Duration) *leaky { l.maxWait = maxWait; return l }
	ctx := context.Background()
	// A burst of the bucket's size goes at once; in-flight requests hold their unit.
	for i := range 4 {
		if err := within(time.Nanosecond).Acquire(ctx); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var tl *TooLongError
	if err := within(time.Nanosecond).Acquire(ctx); !errors.As(err, &tl) || tl.Wait != time.Millisecond {
		t.Fatalf("fifth while four in flight: %v", err)
	}
	for range 4 {
		l.Release()
	}
	// Now four answered units leak at 2/s: one more fits after half a second.
	if err := within(time.Nanosecond).Acquire(ctx); !errors.As(err, &tl) || tl.Wait < 490*time.Millisecond || tl.Wait > 510*time.Millisecond {
		t.Fatalf("full bucket: %v", err)
	}
	clk.add(500 * time.Millisecond)
	if err := within(time.Nanosecond).Acquire(ctx); err != nil {
		t.Fatalf("after leaking one: %v", err)
	}
	l.Release()
	// The platform says its bucket is fuller than ours (a twin process): we follow.
	clk.add(10 * time.Second)
	if err := within(time.Nanosecond).Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	l.Release()
	l.Observe(4) // the store says 4 of 4 used
	if err := within(time.Nanosecond).Acquire(ctx); !errors.As(err, &tl) {
		t.Fatalf("after the headers said 90%% full: %v", err)
	}
	// A 429 fills the bucket and pauses for the hint.
	clk.add(10 * time.Second)
	if err := within(time.Nanosecond).Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	l.Release()
	l.Pause(3 * time.Second)
	if err := within(time.Second).Acquire(ctx); !errors.As(err, &tl) || tl.Wait != 3*time.Second {
		t.Fatalf("paused: %v", err)
	}
	clk.add(3 * time.Second)
	if err := within(time.Nanosecond).Acquire(ctx); err != nil {
		t.Fatalf("after the pause (bucket leaked 6 units meanwhile): %v", err)
	}
}
