package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// unitPrice is every bench sale's price.
var unitPrice = decimal.RequireFromString("29.90")

// benchOrder is one distinct platform order and what happened to it.
type benchOrder struct {
	n, store, sku int
	// outOfOrder: an orders/updated-style delivery is posted before the first one.
	outOfOrder bool
	// alongside are indexes into deliveries re-posted concurrently with the original.
	alongside []int

	// Set by the client that places the order; read by others after ready is closed.
	id         string
	deliveries []platformsim.Delivery // in posting order
	firstPost  time.Time
	ready      chan struct{}
}

// orderJob is a client's unit of work: place and deliver an order, or re-post one of its
// deliveries later (a duplicate the platform sent again).
type orderJob struct {
	order *benchOrder
	late  bool
	which int
}

// ordersPlan draws the orders and the shuffled job list; late duplicates land anywhere
// after their order's own job.
func ordersPlan(o OrdersOptions) ([]*benchOrder, []orderJob, int) {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 11))
	orders := make([]*benchOrder, o.Orders)
	deliveries := 0
	for i := range orders {
		orders[i] = &benchOrder{n: i + 1, store: rng.IntN(o.Stores), sku: rng.IntN(o.SKUs),
			outOfOrder: rng.IntN(100) < o.OutOfOrderPct, ready: make(chan struct{})}
		deliveries++
		if orders[i].outOfOrder {
			deliveries++
		}
	}
	type keyed struct {
		key float64
		job orderJob
	}
	jobs := make([]keyed, 0, len(orders))
	for i, bo := range orders {
		jobs = append(jobs, keyed{float64(i), orderJob{order: bo}})
	}
	dups := deliveries * o.DuplicatePct / 100
	for d := 0; d < dups; d++ {
		i := rng.IntN(len(orders))
		bo := orders[i]
		which := 0
		if bo.outOfOrder {
			which = rng.IntN(2)
		}
		if d%2 == 0 {
			bo.alongside = append(bo.alongside, which)
			continue
		}
		jobs = append(jobs, keyed{float64(i) + 0.5 + rng.Float64()*float64(len(orders)-i), orderJob{order: bo, late: true, which: which}})
	}
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].key < jobs[b].key })
	out := make([]orderJob, len(jobs))
	for i, k := range jobs {
		out[i] = k.job
	}
	return orders, out, dups
}

// ack is one webhook POST's answer as the platform saw it.
type ack struct {
	ms     float64
	status int
}

// hookClient plays the platform: it places orders on the simulator and posts their
// deliveries to the hub's webhook route.
type hookClient struct {
	w    *world
	o    OrdersOptions
	http *http.Client
	mu   sync.Mutex
	acks []ack
	sent int
}

func (c *hookClient) run(ctx context.Context, jobs []orderJob) error {
	ch := make(chan orderJob)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := 0; i < c.o.Clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := c.do(ctx, j); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func (c *hookClient) do(ctx context.Context, j orderJob) error {
	bo := j.order
	if j.late {
		select {
		case <-bo.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.post(ctx, bo, bo.deliveries[j.which])
	}
	defer close(bo.ready)
	if err := c.place(bo); err != nil {
		return err
	}
	bo.firstPost = time.Now()
	for i, d := range bo.deliveries {
		var wg sync.WaitGroup
		errs := make([]error, 1+len(bo.alongside))
		for k, which := range bo.alongside {
			if which == i {
				wg.Add(1)
				go func() { defer wg.Done(); errs[k+1] = c.post(ctx, bo, d) }()
			}
		}
		errs[0] = c.post(ctx, bo, d)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// place sells one unit on the order's store and, for out-of-order orders, updates it
// at once, keeping the update's delivery first in line.
func (c *hookClient) place(bo *benchOrder) error {
	st := c.w.stores[bo.store]
	p := st.products[bo.sku]
	so := platformsim.SimOrder{
		Lines:    []platformsim.SimOrderLine{{Product: p, SKU: skuName(bo.sku), Quantity: 1, UnitPrice: unitPrice}},
		Customer: buyer(bo),
	}
	c.w.rec.selling(st.id, p)
	id, d, err := c.w.sim.(platformsim.OrderPlacer).PlaceOrder(st.id, so)
	if err != nil {
		return fmt.Errorf("place order on %s: %w", st.id, err)
	}
	bo.id, bo.deliveries = id, []platformsim.Delivery{d}
	if !bo.outOfOrder {
		return nil
	}
	so.ID = id
	// A later status the platform's connector reports as given (platforms not listed
	// re-place the order with its status unchanged and a later date).
	if later := laterStatuses[c.o.Platform]; len(later) > 0 {
		so.Status = later[0]
	}
	// A second later, so platforms dating orders to the second still see an update.
	so.UpdatedAt = time.Now().Add(time.Second)
	_, d2, err := c.w.sim.(platformsim.OrderPlacer).PlaceOrder(st.id, so)
	if err != nil {
		return fmt.Errorf("update order %s on %s: %w", id, st.id, err)
	}
	bo.deliveries = []platformsim.Delivery{d2, d}
	return nil
}

// post delivers once, retrying like a platform on 429 and 5xx (each answer counted).
func (c *hookClient) post(ctx context.Context, bo *benchOrder, d platformsim.Delivery) error {
	target := fmt.Sprintf("%s/v1/webhooks/%s/%s", c.w.apiURL, c.o.Platform, connectionID(c.o.Platform, bo.store))
	if len(d.Query) > 0 {
		target += "?" + d.Query.Encode()
	}
	c.mu.Lock()
	c.sent++
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.Body))
		if err != nil {
			return fmt.Errorf("webhook request: %w", err)
		}
		for k, vs := range d.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		start := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("POST webhook for order %s: %w", bo.id, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.mu.Lock()
		c.acks = append(c.acks, ack{ms: float64(time.Since(start).Microseconds()) / 1000, status: resp.StatusCode})
		c.mu.Unlock()
		switch {
		case resp.StatusCode/100 == 2:
			return nil
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && attempt < 5:
			time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
		default:
			return fmt.Errorf("POST webhook for order %s: HTTP %d: %s", bo.id, resp.StatusCode, body)
		}
	}
}

func connectionID(platform string, store int) string {
	return "bench-" + platform + "-" + strconv.Itoa(store+1)
}

// buyer is a distinct customer per order with a valid CPF and a full address, so no
// order is refused for its customer.
func buyer(bo *benchOrder) platformsim.SimCustomer {
	n := strconv.Itoa(bo.n)
	return platformsim.SimCustomer{Name: "Cliente " + n, Email: "cliente" + n + "@example.com", Document: cpf(bo.n),
		Phone: "11987654321", Street: "Rua Harmonia", Number: "1020", City: "São Paulo", State: "SP", PostalCode: "05435000"}
}

// cpf builds a valid CPF (check digits included) from n.
func cpf(n int) string {
	d := make([]int, 0, 11)
	base := fmt.Sprintf("%09d", 100_000_000+n%800_000_000)
	for _, r := range base {
		d = append(d, int(r-'0'))
	}
	for len(d) < 11 {
		sum := 0
		for i, v := range d {
			sum += v * (len(d) + 1 - i)
		}
		r := sum * 10 % 11
		if r == 10 {
			r = 0
		}
		d = append(d, r)
	}
	var b []byte
	for _, v := range d {
		b = append(b, byte('0'+v))
	}
	return string(b)
}
