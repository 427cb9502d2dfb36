package nuvemshop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// pushItem is one update turned into Nuvemshop writes.
type pushItem struct {
	idx      int
	u        platform.Update
	stock    *int64
	price    json.RawMessage
	fast     bool           // stock and/or price only: goes in a PATCH /products/stock-price batch
	variant  map[string]any // PUT /products/{p}/variants/{v} body when not fast
	product  map[string]any // PUT /products/{p} body (catalogue data)
	notFound string
}

// Push writes updates. Stock and price changes share PATCH /products/stock-price calls
// of up to batch_size variants (50, the documented maximum, counted across products);
// an update that also carries cost, a list price or catalogue data is written with
// PUT /products/{id}/variants/{id} (and PUT /products/{id} for product data). When a
// batch is refused as a whole (400/404/422), it is split in halves until the bad item
// stands alone, so good items still go through. Results come back one per update.
func (c *Connector) Push(ctx context.Context, conn domain.Connection, updates []platform.Update) []error {
	errs := make([]error, len(updates))
	s, err := c.settings(conn)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var fast []*pushItem
	var slow []*pushItem
	for i, u := range updates {
		it, err := buildItem(i, u, s)
		switch {
		case err != nil:
			errs[i] = err
		case it == nil: // nothing to change
		case it.fast:
			fast = append(fast, it)
		default:
			slow = append(slow, it)
		}
	}
	batches := makeBatches(fast, s.batchSize)
	jobs := make([]func(), 0, len(batches)+len(slow))
	var mu sync.Mutex
	set := func(idx int, err error) {
		mu.Lock()
		errs[idx] = err
		mu.Unlock()
	}
	for _, b := range batches {
		jobs = append(jobs, func() { c.pushBatch(ctx, conn, s, b, set) })
	}
	for _, it := range slow {
		jobs = append(jobs, func() { set(it.idx, c.pushSlow(ctx, conn, s, it)) })
	}
	c.parallel(len(jobs), func(i int) { jobs[i]() })
	return errs
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

// buildItem validates an update and maps it onto Nuvemshop's fields; nil, nil means
// there is nothing to write.
func buildItem(i int, u platform.Update, s settings) (*pushItem, error) {
	const op = "push"
	it := &pushItem{idx: i, u: u}
	if !validID(u.ProductID) {
		return nil, permanent(op, "sku %s: invalid Nuvemshop product id %q", u.SKU, truncate(u.ProductID, 64))
	}
	if u.VariantID != "" && !validID(u.VariantID) {
		return nil, permanent(op, "sku %s: invalid Nuvemshop variant id %q", u.SKU, truncate(u.VariantID, 64))
	}
	it.notFound = fmt.Sprintf("product %s variant %s (sku %s) not found on Nuvemshop", u.ProductID, u.VariantID, u.SKU)
	vf := map[string]any{}
	if u.Stock != nil {
		if *u.Stock < 0 {
			return nil, permanent(op, "sku %s: negative stock %d", u.SKU, *u.Stock)
		}
		it.stock = u.Stock
		vf["inventory_levels"] = inventoryLevels(*u.Stock, s.locationID)
	}
	if u.Price != nil {
		p, err := amount(*u.Price, s.currency)
		if err != nil {
			return nil, permanent(op, "sku %s: price: %v", u.SKU, err)
		}
		it.price = p
		vf["price"] = p
		if u.ListPrice != nil {
			// Nuvemshop shows "price" crossed out when a lower "promotional_price" is set.
			list, err := amount(*u.ListPrice, s.currency)
			if err != nil {
				return nil, permanent(op, "sku %s: list price: %v", u.SKU, err)
			}
			if u.ListPrice.Amount.GreaterThan(u.Price.Amount) {
				vf["price"], vf["promotional_price"] = list, p
			} else {
				vf["promotional_price"] = nil // no promotion: clear an old one
			}
		}
	}
	if u.Cost != nil {
		cost, err := amount(*u.Cost, s.currency)
		if err != nil {
			return nil, permanent(op, "sku %s: cost: %v", u.SKU, err)
		}
		vf["cost"] = cost
	}
	if p := u.Product; p != nil {
		if p.EAN != "" {
			vf["barcode"] = p.EAN
		}
		if p.WeightGrams > 0 {
			vf["weight"] = json.RawMessage(decimal.New(p.WeightGrams, -3).StringFixed(3)) // kilograms
		}
		pf := map[string]any{"published": p.Published}
		lang := s.language
		if strings.TrimSpace(p.Name) != "" {
			pf["name"] = map[string]string{lang: p.Name}
		}
		if p.Description != "" {
			pf["description"] = map[string]string{lang: p.Description}
		}
		if p.Brand != "" {
			pf["brand"] = p.Brand
		}
		it.product = pf
	}
	if len(vf) == 0 && it.product == nil {
		return nil, nil
	}
	if len(vf) > 0 && u.VariantID == "" {
		return nil, permanent(op, "sku %s: Nuvemshop keeps stock and prices on variants; the mapping of product %s needs a variant id", u.SKU, u.ProductID)
	}
	onlyStockPrice := len(vf) > 0 && it.product == nil
	for k := range vf {
		if k != "inventory_levels" && k != "price" {
			onlyStockPrice = false
		}
	}
	if onlyStockPrice {
		it.fast = true
	} else if len(vf) > 0 {
		it.variant = vf
	}
	return it, nil
}

func inventoryLevels(stock int64, location string) []map[string]any {
	lvl := map[string]any{"stock": stock}
	if location != "" {
		lvl["location_id"] = location
	}
	return []map[string]any{lvl}
}

// makeBatches cuts items into batches of at most size variants, never the same variant
// twice in one batch (a later update of it waits for a later batch).
func makeBatches(items []*pushItem, size int) [][]*pushItem {
	var out [][]*pushItem
	for len(items) > 0 {
		var cur, rest []*pushItem
		seen := map[string]bool{}
		for _, it := range items {
			key := it.u.ProductID + "/" + it.u.VariantID
			if seen[key] {
				rest = append(rest, it)
				continue
			}
			seen[key] = true
			cur = append(cur, it)
			if len(cur) == size {
				out = append(out, cur)
				cur, seen = nil, map[string]bool{}
			}
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
		items = rest
	}
	return out
}

// idJSON sends numeric ids as numbers (as the API does) and anything else as a string.
func idJSON(id string) json.RawMessage {
	numeric := id != "" && len(id) <= 18 && (id[0] != '0' || id == "0")
	for _, r := range id {
		if r < '0' || r > '9' {
			numeric = false
		}
	}
	if numeric {
		return json.RawMessage(id)
	}
	b, _ := json.Marshal(id)
	return b
}

type stockPriceVariant struct {
	ID              json.RawMessage  `json:"id"`
	Price           json.RawMessage  `json:"price,omitempty"`
	InventoryLevels []map[string]any `json:"inventory_levels,omitempty"`
}

type stockPriceProduct struct {
	ID       json.RawMessage     `json:"id"`
	Variants []stockPriceVariant `json:"variants"`
}

// stockPriceBody groups a batch by product, keeping first-seen order.
func stockPriceBody(items []*pushItem, s settings) ([]byte, error) {
	var prods []*stockPriceProduct
	byID := map[string]*stockPriceProduct{}
	for _, it := range items {
		p := byID[it.u.ProductID]
		if p == nil {
			p = &stockPriceProduct{ID: idJSON(it.u.ProductID)}
			byID[it.u.ProductID] = p
			prods = append(prods, p)
		}
		v := stockPriceVariant{ID: idJSON(it.u.VariantID), Price: it.price}
		if it.stock != nil {
			v.InventoryLevels = inventoryLevels(*it.stock, s.locationID)
		}
		p.Variants = append(p.Variants, v)
	}
	return json.Marshal(prods)
}

// stockPriceResult is the answer: [{"id":P,"variants":[{"id":V,"success":true}]}].
type stockPriceResult struct {
	ID       flex `json:"id"`
	Variants []struct {
		ID      flex `json:"id"`
		Success bool `json:"success"`
	} `json:"variants"`
}

func (c *Connector) pushBatch(ctx context.Context, conn domain.Connection, s settings, items []*pushItem, set func(int, error)) {
	body, err := stockPriceBody(items, s)
	if err != nil {
		for _, it := range items {
			set(it.idx, permanent("push", "sku %s: encoding body: %v", it.u.SKU, err))
		}
		return
	}
	r := request{op: "push", method: http.MethodPatch, path: "/products/stock-price", body: body}
	if len(items) == 1 {
		r.notFound = items[0].notFound
	}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		pe := platform.AsError(err)
		if len(items) > 1 && pe.Kind == platform.Permanent && isItemRefusal(pe.StatusCode) {
			// Refused as a whole for something one item did: isolate it.
			half := len(items) / 2
			c.pushBatch(ctx, conn, s, items[:half], set)
			c.pushBatch(ctx, conn, s, items[half:], set)
			return
		}
		for _, it := range items {
			set(it.idx, itemErr(err, it))
		}
		return
	}
	var results []stockPriceResult
	if json.Unmarshal(resp.body, &results) != nil {
		g := garbage(r, resp)
		for _, it := range items {
			set(it.idx, g)
		}
		return
	}
	ok := map[string]bool{}
	for _, p := range results {
		for _, v := range p.Variants {
			key := p.ID.Str() + "/" + v.ID.Str()
			ok[key] = ok[key] || v.Success
		}
	}
	for _, it := range items {
		key := it.u.ProductID + "/" + it.u.VariantID
		success, found := ok[key]
		switch {
		case !found:
			set(it.idx, transient("push", "PATCH /products/stock-price: no result for product %s variant %s (sku %s)", it.u.ProductID, it.u.VariantID, it.u.SKU))
		case !success:
			set(it.idx, permanent("push", "PATCH /products/stock-price: Nuvemshop did not update product %s variant %s (sku %s): success=false (unknown product or variant?)", it.u.ProductID, it.u.VariantID, it.u.SKU))
		default:
			set(it.idx, nil)
		}
	}
}

// isItemRefusal says a whole-batch answer may be caused by one item.
func isItemRefusal(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusUnprocessableEntity
}

// itemErr names the update's SKU in a batch-wide error.
func itemErr(err error, it *pushItem) error {
	pe := *platform.AsError(err)
	if pe.Kind == platform.Permanent {
		pe.Message = "sku " + it.u.SKU + ": " + pe.Message
	}
	return &pe
}

// pushSlow writes an update that carries more than stock and price.
func (c *Connector) pushSlow(ctx context.Context, conn domain.Connection, s settings, it *pushItem) error {
	pid := url.PathEscape(it.u.ProductID)
	if it.variant != nil {
		body, err := json.Marshal(it.variant)
		if err != nil {
			return permanent("push", "sku %s: encoding body: %v", it.u.SKU, err)
		}
		r := request{op: "push", method: http.MethodPut, path: "/products/" + pid + "/variants/" + url.PathEscape(it.u.VariantID),
			body: body, notFound: it.notFound}
		resp, err := c.do(ctx, conn, s, r)
		if err != nil {
			return itemErr(err, it)
		}
		if !isObjectWithID(resp.body) {
			return garbage(r, resp)
		}
	}
	if it.product != nil {
		body, err := json.Marshal(it.product)
		if err != nil {
			return permanent("push", "sku %s: encoding body: %v", it.u.SKU, err)
		}
		r := request{op: "push", method: http.MethodPut, path: "/products/" + pid, body: body,
			notFound: fmt.Sprintf("product %s (sku %s) not found on Nuvemshop", it.u.ProductID, it.u.SKU)}
		resp, err := c.do(ctx, conn, s, r)
		if err != nil {
			return itemErr(err, it)
		}
		if !isObjectWithID(resp.body) {
			return garbage(r, resp)
		}
	}
	return nil
}

func isObjectWithID(b []byte) bool {
	var v struct {
		ID flex `json:"id"`
	}
	return json.Unmarshal(b, &v) == nil && v.ID.Str() != ""
}
