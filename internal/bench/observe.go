package bench

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

type write struct {
	at    time.Time
	value int64
	// sale marks the store's own drop when it sold (orders scenario), not a hub push.
	sale bool
}

// recorder keeps every stock write the simulated stores applied, per store and product.
type recorder struct {
	mu     sync.Mutex
	writes map[string]map[platformsim.Product][]write // store -> product -> writes in time order
	// sales counts sales being placed per store and product whose own stock write has not
	// been heard yet: the simulator reports that write synchronously inside PlaceOrder.
	sales map[saleKey]int
}

type saleKey struct {
	store string
	p     platformsim.Product
}

func newRecorder() *recorder {
	return &recorder{writes: map[string]map[platformsim.Product][]write{}, sales: map[saleKey]int{}}
}

// selling announces that the next stock write heard for (store, p) is the store's own
// sale, so drop latencies count only what the hub pushed. A hub push landing on the same
// product within the microseconds of PlaceOrder would swap labels with the sale's write;
// both then sit a few microseconds apart, so the figures barely move.
func (r *recorder) selling(store string, p platformsim.Product) {
	r.mu.Lock()
	r.sales[saleKey{store, p}]++
	r.mu.Unlock()
}

func (r *recorder) stockWrite(store string, p platformsim.Product, stock int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.writes[store]
	if m == nil {
		m = map[platformsim.Product][]write{}
		r.writes[store] = m
	}
	k := saleKey{store, p}
	sale := r.sales[k] > 0
	if sale {
		r.sales[k]--
	}
	m[p] = append(m[p], write{at: at, value: stock, sale: sale})
}

// reset forgets the history but keeps each product's current value.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.writes {
		for id, ws := range m {
			m[id] = []write{ws[len(ws)-1]}
		}
	}
}

func (r *recorder) current(st benchStore, sku int) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := r.writes[st.id][st.products[sku]]
	if len(ws) == 0 {
		return 0, false
	}
	return ws[len(ws)-1].value, true
}

// stale counts (store, sku) pairs not holding the expected final value.
func (r *recorder) stale(stores []benchStore, skus int, want func(int) int64) int {
	n := 0
	for _, st := range stores {
		for s := 0; s < skus; s++ {
			if v, ok := r.current(st, s); !ok || v != want(s) {
				n++
			}
		}
	}
	return n
}

// latencies: for each accepted change and store, the time from acceptance until the store
// first held that version or a newer one (zero when it already did).
func (r *recorder) latencies(sent []sentChange, stores []benchStore) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]float64, 0, len(sent)*len(stores))
	for _, sc := range sent {
		if sc.rejected {
			continue
		}
		for _, st := range stores {
			ws := r.writes[st.id][st.products[sc.sku]]
			for _, w := range ws {
				if w.value >= sc.version {
					d := w.at.Sub(sc.acceptedAt)
					if d < 0 {
						d = 0
					}
					out = append(out, float64(d.Microseconds())/1000)
					break
				}
			}
		}
	}
	return out
}

// waitSettled waits until every store holds the wanted values and the queues are empty.
func waitSettled(ctx context.Context, hub *app.Hub, rec *recorder, stores []benchStore, skus int, want func(int) int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if rec.stale(stores, skus, want) == 0 && queuesEmpty(ctx, hub) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func queuesEmpty(ctx context.Context, hub *app.Hub) bool {
	st, err := hub.Changes.Stats(ctx)
	if err != nil || st.Waiting+st.InFlight > 0 {
		return false
	}
	for _, q := range hub.PushQueues {
		st, err := q.Stats(ctx)
		if err != nil || st.Waiting+st.InFlight > 0 {
			return false
		}
	}
	return true
}

type calls struct{ writes, limited int64 }

func callStats(sim platformsim.Simulator, stores []benchStore) calls {
	var c calls
	for _, st := range stores {
		s := sim.Calls(st.id)
		c.writes += s.Writes
		c.limited += s.RateLimited
	}
	return c
}

// peakRSSMB reads the process's high-water resident set size (Linux).
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}
