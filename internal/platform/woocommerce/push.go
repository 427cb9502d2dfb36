package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Push writes updates with batch requests: products without variants go to
// POST products/batch, variations to POST products/{parent}/variations/batch, at most
// batch_size items a request. WooCommerce answers a batch with one result per item, in
// order, each either the updated resource or {"id":..,"error":{..}}; errors are mapped
// back to their update. A batch refused as a whole for a reason that may belong to one
// item (HTTP 400/422) is split in halves until the bad item is alone; HTTP 413 (the
// store lowered its batch limit) splits too and remembers the smaller size.
func (c *Connector) Push(ctx context.Context, conn domain.Connection, updates []platform.Update) []error {
	errs := make([]error, len(updates))
	s, err := c.settings(conn)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	st := c.state(conn, s)
	groups := map[string][]batchItem{}
	var order []string
	for i, u := range updates {
		it, skip, err := buildItem(i, u, s)
		switch {
		case err != nil:
			errs[i] = err
			continue
		case skip:
			continue
		}
		key := "" // products
		if u.VariantID != "" {
			key = it.parent
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], it)
	}
	var chunks []batchChunk
	size := st.batchSize(s)
	for _, key := range order {
		items := groups[key]
		for len(items) > 0 {
			n := min(size, len(items))
			chunks = append(chunks, batchChunk{parent: key, items: items[:n]})
			items = items[n:]
		}
	}
	var mu sync.Mutex
	c.parallel(len(chunks), func(i int) {
		res := c.pushBatch(ctx, conn, s, st, chunks[i])
		mu.Lock()
		for idx, err := range res {
			errs[idx] = err
		}
		mu.Unlock()
	})
	return errs
}

// batchItem is one update as a batch entry.
type batchItem struct {
	idx    int    // index in the updates slice
	id     int64  // product or variation id
	parent string // parent product id, for variations
	sku    string
	fields map[string]any
}

type batchChunk struct {
	parent string // "" for products/batch
	items  []batchItem
}

func (b batchChunk) path() string {
	if b.parent == "" {
		return "/products/batch"
	}
	return "/products/" + b.parent + "/variations/batch"
}

// buildItem maps an update onto WooCommerce fields; skip means nothing to send.
func buildItem(i int, u platform.Update, s settings) (batchItem, bool, error) {
	it := batchItem{idx: i, sku: u.SKU}
	pid, ok := parseID(u.ProductID)
	if !ok {
		return it, false, permanent("push", "sku %s: invalid WooCommerce product id %q", u.SKU, u.ProductID)
	}
	it.id = pid
	if u.VariantID != "" {
		vid, ok := parseID(u.VariantID)
		if !ok {
			return it, false, permanent("push", "sku %s: invalid WooCommerce variation id %q", u.SKU, u.VariantID)
		}
		it.id, it.parent = vid, strconv.FormatInt(pid, 10)
	}
	f, err := updateFields(u, s)
	if err != nil {
		return it, false, permanent("push", "sku %s: %v", u.SKU, err)
	}
	if len(f) == 0 {
		return it, true, nil
	}
	f["id"] = it.id
	it.fields = f
	return it, false, nil
}

// parseID accepts WooCommerce ids: positive integers.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

// updateFields maps an Update onto product/variation fields (without the id).
func updateFields(u platform.Update, s settings) (map[string]any, error) {
	f := map[string]any{}
	if u.Stock != nil {
		if *u.Stock < 0 {
			return nil, fmt.Errorf("negative stock %d", *u.Stock)
		}
		// stock_quantity only counts when the item manages stock.
		f["manage_stock"] = true
		f["stock_quantity"] = *u.Stock
	}
	if u.Price != nil {
		price, err := money(*u.Price, s.currency)
		if err != nil {
			return nil, fmt.Errorf("price: %w", err)
		}
		// A list price above the selling price shows as a sale: regular_price is the
		// crossed-out one, sale_price what the buyer pays. Otherwise any old sale is
		// cleared so the selling price is what the buyer pays.
		f["regular_price"], f["sale_price"] = price, ""
		if u.ListPrice != nil && u.ListPrice.Amount.GreaterThan(u.Price.Amount) {
			list, err := money(*u.ListPrice, s.currency)
			if err != nil {
				return nil, fmt.Errorf("list price: %w", err)
			}
			f["regular_price"], f["sale_price"] = list, price
		}
	}
	if u.Cost != nil && s.costMetaKey != "" {
		cost, err := money(*u.Cost, s.currency)
		if err != nil {
			return nil, fmt.Errorf("cost: %w", err)
		}
		f["meta_data"] = []map[string]string{{"key": s.costMetaKey, "value": cost}}
	}
	if p := u.Product; p != nil {
		if ean := strings.TrimSpace(p.EAN); ean != "" {
			f["global_unique_id"] = ean
		}
		if p.WeightGrams > 0 {
			f["weight"] = weight(p.WeightGrams, s.weightUnit)
		}
		if u.VariantID == "" { // catalogue text lives on the product
			if name := strings.TrimSpace(p.Name); name != "" {
				f["name"] = name
			}
			if p.Description != "" {
				f["description"] = p.Description
			}
			f["status"] = "draft"
			if p.Published {
				f["status"] = "publish"
			}
		} else {
			f["status"] = "private"
			if p.Published {
				f["status"] = "publish"
			}
		}
	}
	return f, nil
}

// weight renders grams in the store's weight unit.
func weight(grams int64, unit string) string {
	g := decimal.NewFromInt(grams)
	switch unit {
	case "g":
		return g.String()
	case "lbs":
		return g.Div(decimal.RequireFromString("453.59237")).Round(3).String()
	case "oz":
		return g.Div(decimal.RequireFromString("28.349523125")).Round(3).String()
	}
	return g.Div(decimal.NewFromInt(1000)).Round(3).String()
}

// pushBatch sends one batch and returns the outcome of each of its items by index.
func (c *Connector) pushBatch(ctx context.Context, conn domain.Connection, s settings, st *connState, b batchChunk) map[int]error {
	out := make(map[int]error, len(b.items))
	update := make([]map[string]any, len(b.items))
	for i, it := range b.items {
		update[i] = it.fields
	}
	body, err := json.Marshal(map[string]any{"update": update})
	if err != nil {
		for _, it := range b.items {
			out[it.idx] = permanent("push", "sku %s: encoding body: %v", it.sku, err)
		}
		return out
	}
	r := request{op: "push", method: http.MethodPost, path: b.path(), body: body}
	if b.parent != "" {
		r.notFound = fmt.Sprintf("parent product %s not found on WooCommerce", b.parent)
	}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		pe := platform.AsError(err)
		if len(b.items) > 1 && splittable(pe) {
			if pe.StatusCode == http.StatusRequestEntityTooLarge {
				lowerCap(st, len(b.items)/2)
				c.log.WarnContext(ctx, "woocommerce store refused the batch size; splitting", "connection", conn.ID, "size", len(b.items))
			}
			half := len(b.items) / 2
			for _, part := range []batchChunk{{b.parent, b.items[:half]}, {b.parent, b.items[half:]}} {
				for idx, e := range c.pushBatch(ctx, conn, s, st, part) {
					out[idx] = e
				}
			}
			return out
		}
		for _, it := range b.items {
			out[it.idx] = forItem(pe, it)
		}
		return out
	}
	var ans struct {
		Update []json.RawMessage `json:"update"`
	}
	if json.Unmarshal(resp.body, &ans) != nil || ans.Update == nil {
		for _, it := range b.items {
			out[it.idx] = transient("push", "sku %s: POST %s: HTTP %d with an unexpected body (%s)", it.sku, r.path, resp.status, snippet(resp.body))
		}
		return out
	}
	results := make([]batchResult, len(ans.Update))
	for i, raw := range ans.Update {
		results[i] = parseResult(raw)
	}
	claimed := make([]bool, len(results))
	for i, it := range b.items {
		j := -1
		if i < len(results) && !claimed[i] && results[i].id == it.id {
			j = i
		} else {
			for k := range results {
				if !claimed[k] && results[k].id == it.id {
					j = k
					break
				}
			}
		}
		if j < 0 {
			out[it.idx] = transient("push", "sku %s: the batch answer has no result for id %d", it.sku, it.id)
			continue
		}
		claimed[j] = true
		out[it.idx] = results[j].err(it, b)
	}
	return out
}

// splittable reports whether a whole-batch refusal may belong to one item.
func splittable(pe *platform.Error) bool {
	switch pe.StatusCode {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return true
	}
	return false
}

func lowerCap(st *connState, n int) {
	n = max(n, 1)
	for {
		cur := st.batchCap.Load()
		if cur != 0 && cur <= int64(n) {
			return
		}
		if st.batchCap.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// forItem copies a batch-wide error for one item, naming its SKU.
func forItem(pe *platform.Error, it batchItem) error {
	e := *pe
	e.Message = fmt.Sprintf("sku %s: %s", it.sku, pe.Message)
	return &e
}

// batchResult is one entry of a batch answer.
type batchResult struct {
	id      int64
	failed  bool
	garbage bool
	werr    wcError
}

func parseResult(raw json.RawMessage) batchResult {
	var v struct {
		ID    json.Number `json:"id"`
		Error *wcError    `json:"error"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return batchResult{garbage: true}
	}
	id, _ := strconv.ParseInt(v.ID.String(), 10, 64)
	r := batchResult{id: id}
	if v.Error != nil {
		r.failed, r.werr = true, *v.Error
	}
	return r
}

// err classifies one item's result.
func (r batchResult) err(it batchItem, b batchChunk) error {
	if !r.failed {
		return nil
	}
	what := fmt.Sprintf("product %d", it.id)
	if b.parent != "" {
		what = fmt.Sprintf("variation %d of product %s", it.id, b.parent)
	}
	e := &platform.Error{Platform: Name, Op: "push", StatusCode: r.werr.status(),
		Message: fmt.Sprintf("sku %s (%s): %s", it.sku, what, r.werr.describe())}
	switch st := e.StatusCode; {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		e.Kind = platform.Auth
	case st == http.StatusTooManyRequests:
		e.Kind = platform.RateLimited
	case st >= 500:
		e.Kind = platform.Transient
	default:
		e.Kind = platform.Permanent
	}
	return e
}

// parallel runs f(0..n-1) on at most MaxConcurrency goroutines.
func (c *Connector) parallel(n int, f func(i int)) {
	workers := min(n, c.opts.MaxConcurrency)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
