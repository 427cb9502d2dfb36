package nuvemshop

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
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

func TestBucketLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	l := newBucketLimiter(4, 2, clk.now)
	ctx := context.Background()
	// A burst of the bucket's size goes at once; in-flight requests hold their unit.
	for i := range 4 {
		if err := l.acquire(ctx, 0); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var tl *tooLongError
	if err := l.acquire(ctx, 0); !errors.As(err, &tl) || tl.wait != time.Millisecond {
		t.Fatalf("fifth while four in flight: %v", err)
	}
	for range 4 {
		l.done(0, 0, 0)
	}
	// Now four answered units leak at 2/s: one more fits after half a second.
	if err := l.acquire(ctx, 0); !errors.As(err, &tl) || tl.wait < 490*time.Millisecond || tl.wait > 510*time.Millisecond {
		t.Fatalf("full bucket: %v", err)
	}
	clk.add(500 * time.Millisecond)
	if err := l.acquire(ctx, 0); err != nil {
		t.Fatalf("after leaking one: %v", err)
	}
	l.done(0, 0, 0)
	// The platform says its bucket is fuller than ours (a twin process): we follow.
	clk.add(10 * time.Second)
	if err := l.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	l.done(40, 4, 0) // 36 of 40 used = 3.6 of our 4
	if err := l.acquire(ctx, 0); !errors.As(err, &tl) {
		t.Fatalf("after the headers said 90%% full: %v", err)
	}
	// A 429 fills the bucket and pauses for the hint.
	clk.add(10 * time.Second)
	if err := l.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	l.done(40, 0, 3*time.Second)
	if err := l.acquire(ctx, time.Second); !errors.As(err, &tl) || tl.wait != 3*time.Second {
		t.Fatalf("paused: %v", err)
	}
	clk.add(3 * time.Second)
	if err := l.acquire(ctx, 0); err != nil {
		t.Fatalf("after the pause (bucket leaked 6 units meanwhile): %v", err)
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := map[string]string{
		"base_url":           "ftp://x",
		"store_id":           "../1",
		"batch_size":         "51",
		"rate_limit_bucket":  "0",
		"rate_limit_per_sec": "-2",
		"timeout_ms":         "soon",
		"catalog_page_size":  "500",
		"notify_customer":    "maybe",
		"cancel_reason":      "boredom",
		"user_agent":         "a\r\nX-Evil: 1",
	}
	c := New(&memSecrets{}, Options{})
	for name, value := range tests {
		conn := domain.Connection{ID: "c1", Settings: map[string]string{"store_id": testStore, name: value}}
		_, err := c.settings(conn)
		if err == nil || kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "setting "+name) {
			t.Errorf("%s=%q: %v", name, value, err)
		}
	}
	if _, err := c.settings(domain.Connection{ID: "c1", Settings: map[string]string{}}); err == nil || !strings.Contains(err.Error(), "store_id") {
		t.Errorf("missing store_id: %v", err)
	}
	s, err := c.settings(domain.Connection{ID: "c1", Settings: map[string]string{"store_id": testStore}})
	if err != nil || s.api != DefaultBaseURL+"/"+testStore || s.bucket != 40 || s.perSec != 2 || s.batchSize != 50 || s.currency != "BRL" {
		t.Errorf("defaults %+v %v", s, err)
	}
}
