package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/ingest"
)

// change is one planned stock change: quantity equals version, so a store's value tells
// which version it holds.
type change struct {
	sku     int
	version int64
}

// sentChange is a change with the moment the API accepted it.
type sentChange struct {
	change
	acceptedAt time.Time
	rejected   bool
}

func burstPlan(o Options) []change {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 7))
	k := o.Changes / o.SKUs
	plan := make([]change, 0, o.Changes+o.Changes*o.DuplicatePct/100)
	for s := 0; s < o.SKUs; s++ {
		for v := 1; v <= k; v++ {
			plan = append(plan, change{sku: s, version: int64(v)})
		}
	}
	for len(plan) < o.Changes { // remainder when changes is not a multiple of skus
		plan = append(plan, change{sku: len(plan) % o.SKUs, version: 1})
	}
	dups := o.Changes * o.DuplicatePct / 100
	for i := 0; i < dups; i++ {
		plan = append(plan, plan[rng.IntN(o.Changes)])
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// pacedPlan continues every SKU's versions after from, round robin; last[s] is the SKU's final version.
func pacedPlan(o Options, from int) ([]change, []int64) {
	last := make([]int64, o.SKUs)
	for i := range last {
		last[i] = int64(from)
	}
	plan := make([]change, o.PacedChanges)
	for i := range plan {
		s := i % o.SKUs
		last[s]++
		plan[i] = change{sku: s, version: last[s]}
	}
	return plan, last
}

type client struct {
	url  string
	http *http.Client
}

type wireChange struct {
	Type     string `json:"type"`
	SKU      string `json:"sku"`
	Version  int64  `json:"version"`
	Quantity int64  `json:"quantity"`
}

// post sends one batch and returns when it was accepted and which items were rejected.
func (c *client) post(ctx context.Context, batch []change) ([]sentChange, error) {
	body := struct {
		Changes []wireChange `json:"changes"`
	}{Changes: make([]wireChange, len(batch))}
	for i, ch := range batch {
		body.Changes[i] = wireChange{Type: "stock", SKU: skuName(ch.sku), Version: ch.version, Quantity: ch.version}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	at := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("POST changes: HTTP %d: %s", resp.StatusCode, raw)
	}
	var res ingest.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("POST changes: bad answer: %w", err)
	}
	out := make([]sentChange, len(batch))
	for i, ch := range batch {
		out[i] = sentChange{change: ch, acceptedAt: at}
	}
	for _, rj := range res.Rejected {
		if rj.Index >= 0 && rj.Index < len(out) {
			out[rj.Index].rejected = true
		}
	}
	return out, nil
}

// postAll sends the plan in batches from parallel clients, as fast as the API takes them.
func (c *client) postAll(ctx context.Context, plan []change, batch, clients int) ([]sentChange, error) {
	batches := make(chan []change)
	var (
		mu    sync.Mutex
		sent  []sentChange
		first error
		wg    sync.WaitGroup
	)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				out, err := c.post(ctx, b)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				sent = append(sent, out...)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(plan); i += batch {
		batches <- plan[i:min(i+batch, len(plan))]
	}
	close(batches)
	wg.Wait()
	return sent, first
}

// postPaced offers rate changes per second in 10 ms ticks.
func (c *client) postPaced(ctx context.Context, plan []change, rate int) ([]sentChange, error) {
	const tick = 10 * time.Millisecond
	per := max(1, rate/100)
	t := time.NewTicker(tick)
	defer t.Stop()
	var (
		mu    sync.Mutex
		sent  []sentChange
		first error
		wg    sync.WaitGroup
	)
	for i := 0; i < len(plan); i += per {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-t.C:
		}
		b := plan[i:min(i+per, len(plan))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.post(ctx, b)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			sent = append(sent, out...)
		}()
	}
	wg.Wait()
	return sent, first
}
