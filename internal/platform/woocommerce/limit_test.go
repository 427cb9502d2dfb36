package woocommerce

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

func oneByOne(ids []string) []platform.Update {
	ups := make([]platform.Update, len(ids))
	for i, id := range ids {
		ups[i] = platform.Update{Target: platform.Target{SKU: "s" + strconv.Itoa(i), ProductID: id}, Stock: i64(int64(i))}
	}
	return ups
}

// With the connector's limit equal to the simulator's, a burst far above the limit
// never draws a 429.
func TestLimiterKeepsBurstUnderTheLimit(t *testing.T) {
	simOpts := woocommercesim.Options{RateLimitPerMin: 5, RateWindow: 300 * time.Millisecond}
	e := newEnv(t, simOpts, map[string]string{"rate_limit_per_min": "5", "batch_size": "1"}, Options{MaxConcurrency: 8})
	ids := e.products(17)
	for i, err := range e.c.Push(ctx(t), e.conn, oneByOne(ids)) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if c := e.calls(); c.RateLimited != 0 || c.Writes != 17 {
		t.Fatalf("calls %+v: want 17 writes and no 429", c)
	}
}

// A connector configured above the store's limit gets 429s; they come back classified
// with the store's wait hint, and the good updates still land.
func TestRateLimitStorm(t *testing.T) {
	simOpts := woocommercesim.Options{RateLimitPerMin: 3, RateWindow: 200 * time.Millisecond}
	e := newEnv(t, simOpts, map[string]string{"rate_limit_per_min": "1000", "batch_size": "1"}, Options{MaxConcurrency: 8})
	ids := e.products(12)
	errs := e.c.Push(ctx(t), e.conn, oneByOne(ids))
	var limited, ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case kindOf(err) == platform.RateLimited:
			limited++
			if ra := platform.AsError(err).RetryAfter; ra < time.Second {
				t.Fatalf("update %d: RetryAfter %v, want the store's Retry-After (>= 1s)", i, ra)
			}
		default:
			t.Fatalf("update %d: %v", i, err)
		}
	}
	c := e.calls()
	if limited == 0 || ok == 0 || c.RateLimited != int64(limited) {
		t.Fatalf("ok %d limited %d, sim %+v", ok, limited, c)
	}
	if got := e.c.Stats().RateLimited; got != int64(limited) {
		t.Fatalf("connector counted %d 429s, want %d", got, limited)
	}
}

// A 429's wait hint pauses the whole connection: the next call waits it out.
func TestRetryAfterPausesConnection(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, nil)
	ids := e.products(1)
	e.sim.InjectFault(testStore, woocommercesim.Fault{Kind: woocommercesim.FaultRateLimit, RetryAfter: time.Second})
	err := e.c.Push(ctx(t), e.conn, oneByOne(ids))[0]
	if kindOf(err) != platform.RateLimited || platform.AsError(err).RetryAfter != time.Second {
		t.Fatalf("got %v", err)
	}
	start := time.Now()
	if err := e.c.Push(ctx(t), e.conn, oneByOne(ids))[0]; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("second call went out after %v, before the 1s hint", waited)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"http date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(time.RFC1123)}, 30 * time.Second},
		{"ratelimit reset", map[string]string{"RateLimit-Reset": "4"}, 4 * time.Second},
		{"epoch reset", map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Add(9*time.Second).Unix(), 10)}, 9 * time.Second},
		{"none: one request's worth", nil, 30 * time.Second},
		{"garbage", map[string]string{"Retry-After": "soon"}, 30 * time.Second},
		{"capped", map[string]string{"Retry-After": "999999"}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, 2, time.Minute, now); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
