package merchantpro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// item is one update ready to send: its fields on the product or on its variant, and
// catalogue fields that live on the parent product whatever the target.
type item struct {
	idx       int
	variantID int64 // 0: the product itself
	fields    map[string]any
	parent    map[string]any
}

// chunk is one PATCH /products/{id}: at most one product-level item and up to
// max_variants_per_patch variants.
type chunk struct {
	productID string
	sku       string // for messages
	items     []*item
}

// Push groups the updates by product and sends one PATCH per product carrying the
// product's own fields and its variants nested in "variants" (split when a product has
// more variant updates than max_variants_per_patch). Products go out in parallel under
// the connection's limiter. When the shop rejects a PATCH with several variants as
// invalid, the chunk is bisected until the bad item is alone, so the good ones land.
func (c *Connector) Push(ctx context.Context, conn domain.Connection, updates []platform.Update) []error {
	errs := make([]error, len(updates))
	s, err := c.settings(conn)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	type group struct {
		productID string
		parents   []*item
		variants  []*item
		sku       string
	}
	var order []*group
	byProduct := map[string]*group{}
	for i, u := range updates {
		it, err := buildItem(i, u, s)
		if err != nil {
			errs[i] = err
			continue
		}
		if it == nil {
			continue // nothing to change
		}
		g := byProduct[u.ProductID]
		if g == nil {
			g = &group{productID: u.ProductID, sku: u.SKU}
			byProduct[u.ProductID] = g
			order = append(order, g)
		}
		if it.variantID == 0 {
			g.parents = append(g.parents, it)
		} else {
			g.variants = append(g.variants, it)
		}
	}
	var chunks []chunk
	for _, g := range order {
		n := max(len(g.parents), (len(g.variants)+s.maxVariants-1)/s.maxVariants)
		for k := range n {
			ch := chunk{productID: g.productID, sku: g.sku}
			if k < len(g.parents) {
				ch.items = append(ch.items, g.parents[k])
			}
			lo := k * s.maxVariants
			if lo < len(g.variants) {
				ch.items = append(ch.items, g.variants[lo:min(lo+s.maxVariants, len(g.variants))]...)
			}
			chunks = append(chunks, ch)
		}
	}
	c.parallel(len(chunks), func(i int) {
		for idx, err := range c.sendChunk(ctx, conn, s, chunks[i]) {
			errs[idx] = err
		}
	})
	return errs
}

// sendChunk patches one chunk, bisecting it on a validation error. It returns the error
// (or nil) of every update in the chunk, by update index.
func (c *Connector) sendChunk(ctx context.Context, conn domain.Connection, s settings, ch chunk) map[int]error {
	out := make(map[int]error, len(ch.items))
	err := c.patchChunk(ctx, conn, s, ch)
	if err == nil || len(ch.items) == 1 || !isolatable(err) {
		for _, it := range ch.items {
			out[it.idx] = err
		}
		return out
	}
	half := len(ch.items) / 2
	for _, part := range [][]*item{ch.items[:half], ch.items[half:]} {
		for idx, e := range c.sendChunk(ctx, conn, s, chunk{productID: ch.productID, sku: ch.sku, items: part}) {
			out[idx] = e
		}
	}
	return out
}

// isolatable says a whole-request failure may belong to one item: a validation answer
// (400/409/422), not auth, limits, a missing product or a server fault.
func isolatable(err error) bool {
	pe := platform.AsError(err)
	return pe.Kind == platform.Permanent && (pe.StatusCode == http.StatusBadRequest ||
		pe.StatusCode == http.StatusConflict || pe.StatusCode == http.StatusUnprocessableEntity)
}

func (c *Connector) patchChunk(ctx context.Context, conn domain.Connection, s settings, ch chunk) error {
	body := map[string]any{}
	var variants []map[string]any
	for _, it := range ch.items {
		for k, v := range it.parent {
			body[k] = v
		}
		if it.variantID == 0 {
			for k, v := range it.fields {
				body[k] = v
			}
			continue
		}
		vf := make(map[string]any, len(it.fields)+1)
		for k, v := range it.fields {
			vf[k] = v
		}
		vf["id"] = it.variantID
		variants = append(variants, vf)
	}
	if len(variants) > 0 {
		body["variants"] = variants
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return permanent("push", "product %s: encoding body: %v", ch.productID, err)
	}
	r := request{op: "push", method: http.MethodPatch, path: "/products/" + ch.productID, body: raw,
		notFound: fmt.Sprintf("product %s (sku %s) not found on MerchantPro", ch.productID, ch.sku)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	if _, ok := unwrap(resp.body); !ok && len(strings.TrimSpace(string(resp.body))) > 0 {
		return transient("push", "PATCH %s: HTTP %d with a body that is not a JSON object (%s)", r.path, resp.status, snippet(resp.body, creds{}))
	}
	return nil
}

// buildItem validates an update and maps it onto MerchantPro fields; nil means there
// is nothing to send.
func buildItem(i int, u platform.Update, s settings) (*item, error) {
	if !validID(u.ProductID) {
		return nil, permanent("push", "sku %s: invalid MerchantPro product id %q", u.SKU, u.ProductID)
	}
	it := &item{idx: i, fields: map[string]any{}, parent: map[string]any{}}
	if u.VariantID != "" {
		if !validID(u.VariantID) {
			return nil, permanent("push", "sku %s: invalid MerchantPro variant id %q", u.SKU, u.VariantID)
		}
		it.variantID, _ = strconv.ParseInt(u.VariantID, 10, 64)
	}
	suffix := "_net"
	if s.gross {
		suffix = "_gross"
	}
	if u.Stock != nil {
		if *u.Stock < 0 {
			return nil, permanent("push", "sku %s: negative stock %d", u.SKU, *u.Stock)
		}
		it.fields["stock"] = *u.Stock
	}
	if u.Price != nil {
		p, err := money(*u.Price, s.currency)
		if err != nil {
			return nil, permanent("push", "sku %s: price: %v", u.SKU, err)
		}
		it.fields["price"+suffix] = p
		// old_price is the crossed-out price: set it when the list price is above the
		// selling price, clear it when a list price is given but is not above.
		if u.ListPrice != nil {
			old := json.Number("0")
			if u.ListPrice.Amount.GreaterThan(u.Price.Amount) {
				if old, err = money(*u.ListPrice, s.currency); err != nil {
					return nil, permanent("push", "sku %s: list price: %v", u.SKU, err)
				}
			}
			it.fields["old_price"+suffix] = old
		}
	}
	if u.Cost != nil {
		cost, err := money(*u.Cost, s.currency)
		if err != nil {
			return nil, permanent("push", "sku %s: cost: %v", u.SKU, err)
		}
		it.fields["cost"+suffix] = cost
	}
	if p := u.Product; p != nil {
		if name := strings.TrimSpace(p.Name); name != "" {
			it.parent["name"] = name
		}
		if p.Description != "" {
			it.parent["description"] = p.Description
		}
	}
	if len(it.fields) == 0 && len(it.parent) == 0 {
		return nil, nil
	}
	return it, nil
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

// productJSON is the part of a product the connector reads.
type productJSON struct {
	ID            flexID          `json:"id"`
	Type          string          `json:"type"`
	SKU           string          `json:"sku"`
	EAN           string          `json:"ean"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	CategoryName  string          `json:"category_name"`
	Stock         flexNum         `json:"stock"`
	PriceGross    flexNum         `json:"price_gross"`
	PriceNet      flexNum         `json:"price_net"`
	OldPriceGross flexNum         `json:"old_price_gross"`
	Images        json.RawMessage `json:"images"`
	Variants      []variantJSON   `json:"variants"`
}

type variantJSON struct {
	ID             flexID  `json:"id"`
	SKU            string  `json:"sku"`
	EAN            string  `json:"ean"`
	Stock          flexNum `json:"stock"`
	PriceGross     flexNum `json:"price_gross"`
	PriceNet       flexNum `json:"price_net"`
	VariantOptions []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"variant_options"`
}

func (p productJSON) price(gross bool) flexNum {
	if gross {
		return p.PriceGross
	}
	return p.PriceNet
}

func (v variantJSON) price(gross bool) flexNum {
	if gross {
		return v.PriceGross
	}
	return v.PriceNet
}

// ReadBack reads stock and the selling price of each target, one GET per product.
// Targets that fail are left out and their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	var ids []string
	byProduct := map[string][]int{}
	var errs []error
	for i, t := range targets {
		if !validID(t.ProductID) || (t.VariantID != "" && !validID(t.VariantID)) {
			errs = append(errs, permanent("read_back", "sku %s: invalid MerchantPro id %q/%q", t.SKU, t.ProductID, t.VariantID))
			continue
		}
		if _, ok := byProduct[t.ProductID]; !ok {
			ids = append(ids, t.ProductID)
		}
		byProduct[t.ProductID] = append(byProduct[t.ProductID], i)
	}
	snaps := make([]*platform.Snapshot, len(targets))
	perr := make([]error, len(ids))
	c.parallel(len(ids), func(k int) {
		idxs := byProduct[ids[k]]
		p, err := c.getProduct(ctx, conn, s, ids[k], targets[idxs[0]].SKU, "read_back")
		if err != nil {
			perr[k] = err
			return
		}
		now := c.opts.Now().UTC()
		var miss []string
		for _, i := range idxs {
			t := targets[i]
			snap := &platform.Snapshot{Target: t, ReadAt: now}
			var stock, price flexNum
			if t.VariantID == "" {
				stock, price = p.Stock, p.price(s.gross)
			} else {
				found := false
				for _, v := range p.Variants {
					if string(v.ID) == t.VariantID {
						stock, price, found = v.Stock, v.price(s.gross), true
					}
				}
				if !found {
					miss = append(miss, t.SKU)
					continue
				}
			}
			if n, ok := stock.int64(); ok {
				snap.Stock = &n
			}
			if d, ok := price.decimal(); ok {
				snap.Price = &domain.Money{Amount: d, Currency: s.currency}
			}
			snaps[i] = snap
		}
		if len(miss) > 0 {
			perr[k] = permanent("read_back", "product %s has no variant for sku %s", ids[k], strings.Join(miss, ", "))
		}
	})
	out := make([]platform.Snapshot, 0, len(targets))
	for _, sn := range snaps {
		if sn != nil {
			out = append(out, *sn)
		}
	}
	return out, errors.Join(append(errs, perr...)...)
}

func (c *Connector) getProduct(ctx context.Context, conn domain.Connection, s settings, id, sku, op string) (productJSON, error) {
	r := request{op: op, method: http.MethodGet, path: "/products/" + id,
		query:    url.Values{"include": {"variants"}},
		notFound: fmt.Sprintf("product %s (sku %s) not found on MerchantPro", id, sku)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return productJSON{}, err
	}
	var p productJSON
	raw, ok := unwrap(resp.body)
	if !ok || json.Unmarshal(raw, &p) != nil || p.ID == "" {
		return productJSON{}, transient(op, "GET %s: unexpected body (%s)", r.path, snippet(resp.body, creds{}))
	}
	return p, nil
}
