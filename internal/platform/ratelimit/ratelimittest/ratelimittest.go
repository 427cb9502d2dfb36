// Package ratelimittest is the contract suite every ratelimit.TokenStore passes, and an
// in-process TokenStore to test the shared limiter's logic against.
package ratelimittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// Memory is a TokenStore in one process's memory (atomic under its mutex).
type Memory struct {
	mu      sync.Mutex
	buckets map[string]ratelimit.Bucket
	// Swaps counts SwapBucket calls, won or lost.
	Swaps int
}

// NewMemory returns an empty store.
func NewMemory() *Memory { return &Memory{buckets: map[string]ratelimit.Bucket{}} }

// SwapBucket implements ratelimit.TokenStore.
func (m *Memory) SwapBucket(_ context.Context, key string, old, next ratelimit.Bucket, _ time.Time) (bool, ratelimit.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Swaps++
	cur := m.buckets[key]
	if cur.Rev != old.Rev {
		return false, cur, nil
	}
	m.buckets[key] = next
	return true, next, nil
}

// Run checks store's compare-and-swap: first write, a lost race returning the winner's
// bucket exactly, a won retry, and keys kept apart. prefix makes keys unique per run.
func Run(t *testing.T, store ratelimit.TokenStore, prefix string) {
	ctx := context.Background()
	at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.UTC)
	expires := time.Now().Add(time.Hour)
	key := prefix + "tray|conn 1|https://loja.example/web_api#x"
	first := ratelimit.Bucket{TAT: at, Day: "2025-03-04", Used: 3, Rev: 1}
	second := ratelimit.Bucket{TAT: at.Add(1500 * time.Microsecond), Day: "2025-03-04", Used: 5, Rev: 2}
	steps := []struct {
		name        string
		key         string
		old, next   ratelimit.Bucket
		wantSwapped bool
		wantCurrent ratelimit.Bucket
	}{
		{"a new key takes the first write", key, ratelimit.Bucket{}, first, true, first},
		{"a writer that read nothing loses to the first and sees its bucket", key, ratelimit.Bucket{}, second, false, first},
		{"a writer on the current revision wins", key, first, second, true, second},
		{"a writer on an old revision loses and sees the newest", key, first, ratelimit.Bucket{Rev: 2}, false, second},
		// Two processes with the same view compute the same next bucket: the second must
		// still lose (a store that took it for a retry of its own write would grant twice).
		{"a twin of the winning write loses", key, first, second, false, second},
		{"another key is another bucket", key + "-other", ratelimit.Bucket{}, first, true, first},
		{"a bucket without a daily budget keeps no day", key + "-nodaily", ratelimit.Bucket{},
			ratelimit.Bucket{TAT: at, Rev: 1}, true, ratelimit.Bucket{TAT: at, Rev: 1}},
	}
	for _, st := range steps {
		swapped, cur, err := store.SwapBucket(ctx, st.key, st.old, st.next, expires)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if swapped != st.wantSwapped {
			t.Fatalf("%s: swapped = %v, want %v", st.name, swapped, st.wantSwapped)
		}
		if !swapped && !sameBucket(cur, st.wantCurrent) {
			t.Fatalf("%s: current = %+v, want %+v", st.name, cur, st.wantCurrent)
		}
	}
}

func sameBucket(a, b ratelimit.Bucket) bool {
	return a.TAT.Equal(b.TAT) && a.Day == b.Day && a.Used == b.Used && a.Rev == b.Rev
}
