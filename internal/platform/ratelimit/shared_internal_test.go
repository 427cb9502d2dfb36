package ratelimit

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// The bucket's schedule, whatever the interleaving of processes, the lease sizes and
// the delays before each request reaches the platform (up to LeaseUse + Flight after
// its token is due), never puts more than Limit arrivals in any Window. Virtual time,
// seeded randomness: the same run every time.
func TestBucketScheduleHoldsTheRollingLimit(t *testing.T) {
	tests := []struct {
		name      string
		rule      Rule
		processes int
		leases    int
	}{
		{"tray a minute", Rule{Limit: 180, Window: time.Minute, Daily: 100000, Flight: 10 * time.Second}, 4, 3000},
		{"small limit", Rule{Limit: 3, Window: time.Second, Flight: 100 * time.Millisecond}, 3, 500},
		{"test scale", Rule{Limit: 20, Window: 2 * time.Second, Flight: 500 * time.Millisecond}, 3, 1000},
		{"limit one", Rule{Limit: 1, Window: time.Second, Flight: 0}, 2, 200},
		// Bucket rules: the store's leaky bucket must never overflow.
		{"nuvemshop bucket", Rule{Limit: 1, Window: 500 * time.Millisecond, Burst: 40, Flight: 10 * time.Second}, 4, 3000},
		{"bucket shallower than the flight", Rule{Limit: 1, Window: 100 * time.Millisecond, Burst: 5, Flight: 2 * time.Second}, 3, 1000},
		{"bucket of one", Rule{Limit: 2, Window: time.Second, Burst: 1, Flight: 300 * time.Millisecond}, 2, 300},
		{"shopify points", Rule{Limit: 100, Window: time.Second, Burst: 1000, Flight: 10 * time.Second}, 3, 3000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.rule.Limit)))
			p := planFor(tc.rule)
			start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
			var stored Bucket
			views := make([]Bucket, tc.processes)
			clocks := make([]time.Time, tc.processes)
			for i := range clocks {
				clocks[i] = start
			}
			var arrivals []time.Time
			flight := LeaseUse + tc.rule.Flight
			for n := range tc.leases {
				i := rng.IntN(tc.processes)
				clocks[i] = clocks[i].Add(time.Duration(rng.Int64N(int64(p.interval))))
				if n%300 == 299 { // a quiet spell refills the bucket for the next burst
					clocks[i] = clocks[i].Add(tc.rule.Window*time.Duration(max(tc.rule.Burst, 1)) + flight)
				}
				now := clocks[i]
				want := 1 + rng.IntN(p.batch)
				for {
					tk := p.take(views[i], now, want)
					if tk.daily > 0 {
						t.Fatalf("daily budget spent: %+v", tk)
					}
					if views[i].Rev != stored.Rev { // lost the swap: learn the stored bucket
						views[i] = stored
						continue
					}
					stored, views[i] = tk.next, tk.next
					for range tk.tokens {
						// The worst case for the store: a run of slow requests, then a run
						// of fast ones catching up with them; then random delays.
						var delay time.Duration
						switch n / 40 % 3 {
						case 0:
							delay = flight
						case 2:
							delay = time.Duration(rng.Int64N(int64(flight + 1)))
						}
						arrivals = append(arrivals, tk.ready.Add(delay))
					}
					clocks[i] = tk.ready
					break
				}
			}
			sort.Slice(arrivals, func(a, b int) bool { return arrivals[a].Before(arrivals[b]) })
			if tc.rule.Burst > 0 {
				checkLeakyBucket(t, tc.rule, arrivals)
				return
			}
			worst := 0
			for a, lo := 0, 0; a < len(arrivals); a++ {
				for !arrivals[lo].After(arrivals[a].Add(-tc.rule.Window)) {
					lo++
				}
				worst = max(worst, a-lo+1)
			}
			if worst > tc.rule.Limit {
				t.Fatalf("%d arrivals in one window of %v, limit %d", worst, tc.rule.Window, tc.rule.Limit)
			}
			t.Logf("%d requests, at most %d in any %v (limit %d), interval %v, batch %d",
				len(arrivals), worst, tc.rule.Window, tc.rule.Limit, p.interval, p.batch)
		})
	}
}

// checkLeakyBucket runs the store's leaky bucket over the arrivals: each pours one unit
// in, Limit units drain every Window, and an arrival that finds Burst units is refused.
func checkLeakyBucket(t *testing.T, r Rule, arrivals []time.Time) {
	t.Helper()
	drain := float64(r.Limit) / r.Window.Seconds()
	level, fullest := 0.0, 0.0
	for i, at := range arrivals {
		if i > 0 {
			level = max(0, level-at.Sub(arrivals[i-1]).Seconds()*drain)
		}
		if level+1 > float64(r.Burst)+1e-9 {
			t.Fatalf("arrival %d at %v finds the bucket at %.3f of %d", i, at, level, r.Burst)
		}
		level++
		fullest = max(fullest, level)
	}
	p := planFor(r)
	t.Logf("%d requests, bucket at most %.2f of %d, interval %v, burst %v, batch %d",
		len(arrivals), fullest, r.Burst, p.interval, p.burst, p.batch)
}
