package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// itemJSON is the part of a product or variation the connector reads.
type itemJSON struct {
	ID             json.Number     `json:"id"`
	Type           string          `json:"type"`
	Name           string          `json:"name"`
	SKU            string          `json:"sku"`
	Description    string          `json:"description"`
	GlobalUniqueID string          `json:"global_unique_id"`
	ManageStock    json.RawMessage `json:"manage_stock"` // bool, or "parent" on variations
	StockQuantity  json.RawMessage `json:"stock_quantity"`
	Price          json.RawMessage `json:"price"`
	Categories     []struct {
		Name string `json:"name"`
	} `json:"categories"`
	Images []struct {
		Src string `json:"src"`
	} `json:"images"`
	Image *struct {
		Src string `json:"src"`
	} `json:"image"` // variations have one
	Attributes []struct {
		Name   string   `json:"name"`
		Option string   `json:"option"`  // variations
		Opts   []string `json:"options"` // products
	} `json:"attributes"`
}

func (it itemJSON) id() int64 {
	n, _ := strconv.ParseInt(it.ID.String(), 10, 64)
	return n
}

// stock is stock_quantity when the item (or its parent) manages stock.
func (it itemJSON) stock() *int64 {
	raw := bytes.TrimSpace(it.StockQuantity)
	if len(raw) == 0 || string(raw) == "null" || string(bytes.TrimSpace(it.ManageStock)) == "false" {
		return nil
	}
	v := strings.Trim(string(raw), `"`)
	d, err := decimal.NewFromString(v)
	if !plainNumber(v) || err != nil || d.Abs().GreaterThan(decimal.NewFromInt(1<<53)) {
		return nil
	}
	n := d.IntPart()
	return &n
}

// price is the active price (the sale price while a sale runs).
func (it itemJSON) price(currency string) *domain.Money {
	var s string
	raw := bytes.TrimSpace(it.Price)
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
	} else {
		s = string(raw)
	}
	s = strings.TrimSpace(s)
	if !plainNumber(s) {
		return nil
	}
	d, err := domain.ParseAmount(s)
	if err != nil {
		return nil
	}
	return &domain.Money{Amount: d, Currency: currency}
}

// ReadBack reads stock and the active price of each target: one GET products?include=
// for up to page_size products, and one GET products/{parent}/variations?include= per
// parent. Targets that fail are left out and their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	type group struct {
		parent string
		ids    []int64
		tgts   []platform.Target
	}
	var errs []error
	byKey := map[string]*group{}
	var groups []*group
	for _, t := range targets {
		pid, ok := parseID(t.ProductID)
		key, id := "", pid
		if ok && t.VariantID != "" {
			key = strconv.FormatInt(pid, 10)
			id, ok = parseID(t.VariantID)
		}
		if !ok {
			errs = append(errs, permanent("read_back", "sku %s: invalid WooCommerce ids %q/%q", t.SKU, t.ProductID, t.VariantID))
			continue
		}
		g := byKey[key]
		if g == nil || len(g.ids) >= s.pageSize {
			g = &group{parent: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, id)
		g.tgts = append(g.tgts, t)
	}
	snaps := make([][]platform.Snapshot, len(groups))
	gerrs := make([]error, len(groups))
	c.parallel(len(groups), func(i int) {
		g := groups[i]
		path := "/products"
		if g.parent != "" {
			path = "/products/" + g.parent + "/variations"
		}
		inc := make([]string, len(g.ids))
		for j, id := range g.ids {
			inc[j] = strconv.FormatInt(id, 10)
		}
		q := url.Values{"include": {strings.Join(inc, ",")}, "per_page": {strconv.Itoa(s.pageSize)}}
		items, _, err := c.list(ctx, conn, s, request{op: "read_back", method: http.MethodGet, path: path, query: q,
			notFound: fmt.Sprintf("product %s not found on WooCommerce", g.parent)})
		if err != nil {
			gerrs[i] = err
			return
		}
		found := make(map[int64]itemJSON, len(items))
		for _, it := range items {
			found[it.id()] = it
		}
		now := c.opts.Now().UTC()
		var missing []string
		for j, id := range g.ids {
			it, ok := found[id]
			if !ok {
				missing = append(missing, g.tgts[j].SKU)
				continue
			}
			snaps[i] = append(snaps[i], platform.Snapshot{Target: g.tgts[j], Stock: it.stock(), Price: it.price(s.currency), ReadAt: now})
		}
		if len(missing) > 0 {
			gerrs[i] = permanent("read_back", "not found on WooCommerce: sku %s", strings.Join(missing, ", "))
		}
	})
	var out []platform.Snapshot
	for i := range groups {
		out = append(out, snaps[i]...)
		if gerrs[i] != nil {
			errs = append(errs, gerrs[i])
		}
	}
	return out, errors.Join(errs...)
}

// list runs a collection GET and returns its items and X-WP-TotalPages (0 if absent).
func (c *Connector) list(ctx context.Context, conn domain.Connection, s settings, r request) ([]itemJSON, int, error) {
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return nil, 0, err
	}
	var items []itemJSON
	if err := json.Unmarshal(resp.body, &items); err != nil {
		return nil, 0, transient(r.op, "GET %s: HTTP %d with an unexpected body (%s)", r.path, resp.status, snippet(resp.body))
	}
	pages, _ := strconv.Atoi(strings.TrimSpace(resp.header.Get("X-WP-TotalPages")))
	return items, pages, nil
}

// ListCatalog pages through the products (page_size a page, any status); a variable
// product is listed as its variations. The cursor is the next page number.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	page := 1
	if cursor != "" {
		if page, err = strconv.Atoi(cursor); err != nil || page < 1 {
			return platform.CatalogPage{}, permanent("list_catalog", "invalid catalogue cursor %q", truncate(cursor, 40))
		}
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(s.pageSize)}, "orderby": {"id"}, "order": {"asc"}}
	products, pages, err := c.list(ctx, conn, s, request{op: "list_catalog", method: http.MethodGet, path: "/products", query: q})
	if err != nil {
		return platform.CatalogPage{}, err
	}
	var out platform.CatalogPage
	for _, p := range products {
		if p.Type != "variable" {
			out.Items = append(out.Items, catalogItem(p, nil, s.currency))
			continue
		}
		for vpage := 1; ; vpage++ {
			vq := url.Values{"page": {strconv.Itoa(vpage)}, "per_page": {strconv.Itoa(s.pageSize)}}
			vars, vpages, err := c.list(ctx, conn, s, request{op: "list_catalog", method: http.MethodGet,
				path: "/products/" + strconv.FormatInt(p.id(), 10) + "/variations", query: vq})
			if err != nil {
				return platform.CatalogPage{}, err
			}
			for _, v := range vars {
				out.Items = append(out.Items, catalogItem(v, &p, s.currency))
			}
			if len(vars) < s.pageSize || (vpages > 0 && vpage >= vpages) {
				break
			}
		}
	}
	more := len(products) == s.pageSize
	if pages > 0 {
		more = page < pages
	}
	if more {
		out.Next = strconv.Itoa(page + 1)
	}
	return out, nil
}

// catalogItem turns a product, or a variation of parent, into a catalogue item.
func catalogItem(it itemJSON, parent *itemJSON, currency string) platform.CatalogItem {
	ci := platform.CatalogItem{
		Target: platform.Target{SKU: strings.TrimSpace(it.SKU), ProductID: it.ID.String()},
		Name:   strings.TrimSpace(it.Name), EAN: strings.TrimSpace(it.GlobalUniqueID),
		Stock: it.stock(), Price: it.price(currency), Description: it.Description,
	}
	src := it
	if parent != nil {
		ci.ProductID, ci.VariantID = parent.ID.String(), it.ID.String()
		src = *parent
		var opts []string
		for _, a := range it.Attributes {
			if a.Option != "" {
				opts = append(opts, a.Option)
			}
		}
		if ci.Name == "" {
			ci.Name = strings.TrimSpace(strings.Join(append([]string{strings.TrimSpace(parent.Name)}, opts...), " - "))
		}
		if ci.Description == "" {
			ci.Description = parent.Description
		}
	}
	if len(src.Categories) > 0 {
		ci.Category = src.Categories[0].Name
	}
	for _, im := range it.Images {
		if im.Src != "" {
			ci.Images = append(ci.Images, im.Src)
		}
	}
	if it.Image != nil && it.Image.Src != "" {
		ci.Images = append(ci.Images, it.Image.Src)
	}
	if len(ci.Images) == 0 && parent != nil {
		for _, im := range parent.Images {
			if im.Src != "" {
				ci.Images = append(ci.Images, im.Src)
			}
		}
	}
	for _, a := range it.Attributes {
		v := a.Option
		if v == "" {
			v = strings.Join(a.Opts, ", ")
		}
		if a.Name != "" && v != "" {
			if ci.Attributes == nil {
				ci.Attributes = map[string]string{}
			}
			ci.Attributes[a.Name] = v
		}
	}
	return ci
}
