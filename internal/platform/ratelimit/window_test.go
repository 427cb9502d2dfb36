package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Whatever the concurrency, no rolling window holds more than limit starts, and
// consecutive starts are at least window/limit apart.
func TestWindowBoundsAndPacesStarts(t *testing.T) {
	tests := []struct {
		name        string
		limit       int
		window      time.Duration
		requests    int
		concurrency int
	}{
		{"serial", 5, 100 * time.Millisecond, 12, 1},
		{"concurrent", 5, 100 * time.Millisecond, 12, 6},
		{"limit one", 1, 30 * time.Millisecond, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewWindow(tt.limit, tt.window, time.Now)
			var mu sync.Mutex
			var starts []time.Time
			var wg sync.WaitGroup
			work := make(chan struct{})
			for i := 0; i < tt.concurrency; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						if err := l.Acquire(context.Background()); err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						starts = append(starts, time.Now())
						mu.Unlock()
						time.Sleep(2 * time.Millisecond) // the request
						l.Release()
					}
				}()
			}
			for i := 0; i < tt.requests; i++ {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			spacing := tt.window / time.Duration(tt.limit)
			for i := range starts {
				in := 0
				for j := range starts {
					if d := starts[j].Sub(starts[i]); d >= 0 && d < tt.window {
						in++
					}
				}
				if in > tt.limit {
					t.Fatalf("%d starts within one window from start %d, limit %d", in, i, tt.limit)
				}
				if i > 0 && starts[i].Sub(starts[i-1]) < spacing-time.Millisecond {
					t.Fatalf("starts %d and %d only %v apart, pace is %v", i-1, i, starts[i].Sub(starts[i-1]), spacing)
				}
			}
		})
	}
}

func TestPauseHoldsStartsAndAcquireHonoursContext(t *testing.T) {
	l := NewWindow(100, time.Second, time.Now)
	l.Pause(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Acquire(ctx); err == nil {
		t.Fatal("acquired a slot while the platform asked to wait an hour")
	}
	if l.Limit() != 100 || l.Period() != time.Second {
		t.Fatalf("limit %d period %v", l.Limit(), l.Period())
	}
}
