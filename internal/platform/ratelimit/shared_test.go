package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit/ratelimittest"
)

// Two processes (two Shared limiters on one store) spend one daily budget between
// them, and a caller whose deadline comes before its token is refused at once.
func TestSharedLimiterAcrossProcesses(t *testing.T) {
	tests := []struct {
		name     string
		rule     ratelimit.Rule
		acquires int           // alternating between the two processes, no deadline
		deadline time.Duration // then one more with this deadline
		check    func(t *testing.T, err error, took time.Duration)
	}{
		{"the daily budget is one for both", ratelimit.Rule{Limit: 100, Window: time.Second, Daily: 5}, 5, time.Minute,
			func(t *testing.T, err error, _ time.Duration) {
				var spent *ratelimit.ExhaustedError
				if !errors.As(err, &spent) || spent.Daily != 5 || spent.RetryAfter <= 0 || spent.RetryAfter > 24*time.Hour {
					t.Fatalf("sixth acquire: %v, want the daily budget of 5 spent until midnight", err)
				}
			}},
		{"a token due after the deadline is refused at once", ratelimit.Rule{Limit: 1, Window: 10 * time.Second}, 1, 100 * time.Millisecond,
			func(t *testing.T, err error, took time.Duration) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("second acquire: %v, want past the deadline", err)
				}
				if took > 5*time.Second {
					t.Fatalf("refused after %v, not at once", took)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := ratelimittest.NewMemory()
			procs := []ratelimit.Limiter{
				(&ratelimit.Shared{Store: store}).Limiter("tray|c1|https://a", tc.rule),
				(&ratelimit.Shared{Store: store}).Limiter("tray|c1|https://a", tc.rule),
			}
			for i := range tc.acquires {
				if err := procs[i%2].Acquire(context.Background()); err != nil {
					t.Fatalf("acquire %d: %v", i, err)
				}
				procs[i%2].Release()
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			start := time.Now()
			err := procs[tc.acquires%2].Acquire(ctx)
			tc.check(t, err, time.Since(start))
		})
	}
}
