package tray

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

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Push sends one PUT per update (stock, prices and product data together), a few at a
// time; the connection's limiter paces them.
func (c *Connector) Push(ctx context.Context, conn domain.Connection, updates []platform.Update) []error {
	errs := make([]error, len(updates))
	s, err := c.settings(conn)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	c.parallel(len(updates), func(i int) { errs[i] = c.pushOne(ctx, conn, s, updates[i]) })
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

func (c *Connector) pushOne(ctx context.Context, conn domain.Connection, s settings, u platform.Update) error {
	fields, err := updateFields(u, s.currency)
	if err != nil {
		return permanent("push", "sku %s: %v", u.SKU, err)
	}
	if len(fields) == 0 {
		return nil // nothing to change
	}
	r, err := targetRequest("push", http.MethodPut, u.Target)
	if err != nil {
		return err
	}
	wrapper := "Product"
	if u.VariantID != "" {
		wrapper = "Variant"
	}
	if r.body, err = json.Marshal(map[string]map[string]any{wrapper: fields}); err != nil {
		return permanent("push", "sku %s: encoding body: %v", u.SKU, err)
	}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	return saved(r, resp)
}

// updateFields maps an Update onto Tray's product/variant fields.
func updateFields(u platform.Update, currency string) (map[string]any, error) {
	f := map[string]any{}
	if u.Stock != nil {
		if *u.Stock < 0 {
			return nil, fmt.Errorf("negative stock %d", *u.Stock)
		}
		f["stock"] = *u.Stock
	}
	if u.Price != nil {
		price, err := money(*u.Price, currency)
		if err != nil {
			return nil, fmt.Errorf("price: %w", err)
		}
		f["price"] = price
		// A list price above the selling price shows as a promotion: Tray's "price" is
		// the crossed-out one and "promotional_price" what the buyer pays.
		if u.ListPrice != nil && u.ListPrice.Amount.GreaterThan(u.Price.Amount) {
			list, err := money(*u.ListPrice, currency)
			if err != nil {
				return nil, fmt.Errorf("list price: %w", err)
			}
			f["price"], f["promotional_price"] = list, price
		}
	}
	if u.Cost != nil {
		cost, err := money(*u.Cost, currency)
		if err != nil {
			return nil, fmt.Errorf("cost: %w", err)
		}
		f["cost_price"] = cost
	}
	if p := u.Product; p != nil {
		if p.EAN != "" {
			f["ean"] = p.EAN
		}
		if u.VariantID == "" { // catalogue data lives on the product
			if strings.TrimSpace(p.Name) != "" {
				f["name"] = p.Name
			}
			if p.Description != "" {
				f["description"] = p.Description
			}
			if p.Brand != "" {
				f["brand"] = p.Brand
			}
			if p.WeightGrams > 0 {
				f["weight"] = p.WeightGrams
			}
			f["available"] = 0
			if p.Published {
				f["available"] = 1
			}
		}
	}
	return f, nil
}

// targetRequest builds the product or variant URL for a target.
func targetRequest(op, method string, t platform.Target) (request, error) {
	if t.VariantID != "" {
		if !validID(t.VariantID) {
			return request{}, permanent(op, "sku %s: invalid Tray variant id %q", t.SKU, t.VariantID)
		}
		return request{op: op, method: method, path: "/products/variants/" + url.PathEscape(t.VariantID),
			notFound: fmt.Sprintf("variant %s (sku %s) not found on Tray", t.VariantID, t.SKU)}, nil
	}
	if !validID(t.ProductID) {
		return request{}, permanent(op, "sku %s: invalid Tray product id %q", t.SKU, t.ProductID)
	}
	return request{op: op, method: method, path: "/products/" + url.PathEscape(t.ProductID),
		notFound: fmt.Sprintf("product %s (sku %s) not found on Tray", t.ProductID, t.SKU)}, nil
}

// validID accepts Tray ids: digits (letters too, to be lenient), no path tricks.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ReadBack reads stock and the selling price of each target. Targets that fail are
// left out and their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	snaps := make([]*platform.Snapshot, len(targets))
	errs := make([]error, len(targets))
	c.parallel(len(targets), func(i int) { snaps[i], errs[i] = c.readOne(ctx, conn, s, targets[i]) })
	out := make([]platform.Snapshot, 0, len(targets))
	for _, sn := range snaps {
		if sn != nil {
			out = append(out, *sn)
		}
	}
	return out, errors.Join(errs...)
}

func (c *Connector) readOne(ctx context.Context, conn domain.Connection, s settings, t platform.Target) (*platform.Snapshot, error) {
	r, err := targetRequest("read_back", http.MethodGet, t)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Product *itemJSON `json:"Product"`
		Variant *itemJSON `json:"Variant"`
	}
	item := (*itemJSON)(nil)
	if json.Unmarshal(resp.body, &body) == nil {
		item = body.Product
		if t.VariantID != "" {
			item = body.Variant
		}
	}
	if item == nil {
		return nil, transient("read_back", "GET %s: unexpected body (%s)", r.path, snippet(resp.body))
	}
	snap := &platform.Snapshot{Target: t, ReadAt: c.opts.Now().UTC()}
	if n, ok := parseQuantity(string(item.Stock)); ok {
		snap.Stock = &n
	}
	if p, ok := item.sellingPrice(); ok {
		snap.Price = &domain.Money{Amount: p, Currency: s.currency}
	}
	return snap, nil
}

// itemJSON is the part of Tray's product/variant GET the read-back needs.
type itemJSON struct {
	Stock            flexString `json:"stock"`
	Price            flexString `json:"price"`
	PromotionalPrice flexString `json:"promotional_price"`
}

// sellingPrice is what a buyer pays: the promotional price when one below the price
// is set (mirrors how Push writes a list price), else the price.
func (it *itemJSON) sellingPrice() (decimal.Decimal, bool) {
	p, err := decimal.NewFromString(strings.TrimSpace(string(it.Price)))
	if err != nil {
		return decimal.Decimal{}, false
	}
	if promo, err := decimal.NewFromString(strings.TrimSpace(string(it.PromotionalPrice))); err == nil &&
		promo.IsPositive() && promo.LessThan(p) {
		return promo, true
	}
	return p, true
}

// parseQuantity reads Tray's stock ("682", "3.000"), truncating decimals.
func parseQuantity(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.Abs().GreaterThan(decimal.NewFromInt(1<<53)) {
		return 0, false
	}
	return d.IntPart(), true
}
