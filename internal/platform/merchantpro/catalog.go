package merchantpro

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// listJSON is MerchantPro's collection envelope:
// {"data":[...],"meta":{"count":{"total","start","current","limit"},"links":{"next":...}}}.
type listJSON struct {
	Data json.RawMessage `json:"data"`
	Meta struct {
		Count struct {
			Total   flexNum `json:"total"`
			Start   flexNum `json:"start"`
			Current flexNum `json:"current"`
		} `json:"count"`
		Links struct {
			Next *string `json:"next"`
		} `json:"links"`
	} `json:"meta"`
}

// nextStart returns the offset of the next page: the "start" of meta.links.next, or
// (without a link) start+current when the count says more remain. ok=false on the last page.
func (l listJSON) nextStart(start, got int) (next int, ok bool, bad bool) {
	if l.Meta.Links.Next != nil && strings.TrimSpace(*l.Meta.Links.Next) != "" {
		u, err := url.Parse(strings.TrimSpace(*l.Meta.Links.Next))
		if err != nil {
			return 0, false, true
		}
		n, err := strconv.Atoi(u.Query().Get("start"))
		if err != nil || n <= start {
			return 0, false, true // a link that does not move forward would loop
		}
		return n, true, false
	}
	if l.Meta.Links.Next == nil {
		total, okT := l.Meta.Count.Total.int64()
		if okT && got > 0 && int64(start+got) < total {
			return start + got, true, false
		}
	}
	return 0, false, false
}

func parseCursor(op, cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(cursor)
	if err != nil || n < 0 {
		return 0, permanent(op, "invalid cursor %q", cursor)
	}
	return n, nil
}

// ListCatalog reads one page of products with their variants (GET /products?start=&limit=
// &include=variants). Each simple product is one item; each variant of a multi_variant
// product is one item. The cursor is the next page's start offset.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	const op = "list_catalog"
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	start, err := parseCursor(op, cursor)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	r := request{op: op, method: http.MethodGet, path: "/products", query: url.Values{
		"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(s.pageSize)}, "include": {"variants"}}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	var l listJSON
	var products []productJSON
	if json.Unmarshal(resp.body, &l) != nil || json.Unmarshal(l.Data, &products) != nil {
		return platform.CatalogPage{}, transient(op, "GET /products: unexpected body (%s)", snippet(resp.body, creds{}))
	}
	var page platform.CatalogPage
	for _, p := range products {
		page.Items = append(page.Items, catalogItems(p, s)...)
	}
	next, more, bad := l.nextStart(start, len(products))
	if bad {
		return platform.CatalogPage{}, transient(op, "GET /products: meta.links.next is not a forward page link")
	}
	if more {
		page.Next = strconv.Itoa(next)
	}
	return page, nil
}

func catalogItems(p productJSON, s settings) []platform.CatalogItem {
	id := string(p.ID)
	if id == "" {
		return nil
	}
	images := imageURLs(p.Images)
	base := platform.CatalogItem{Name: p.Name, Description: p.Description, Category: p.CategoryName, Images: images}
	money := func(f flexNum) *domain.Money {
		if d, ok := f.decimal(); ok {
			return &domain.Money{Amount: d, Currency: s.currency}
		}
		return nil
	}
	count := func(f flexNum) *int64 {
		if n, ok := f.int64(); ok {
			return &n
		}
		return nil
	}
	if p.Type != "multi_variant" || len(p.Variants) == 0 {
		it := base
		it.Target = platform.Target{SKU: p.SKU, ProductID: id}
		it.EAN = p.EAN
		if p.Type != "multi_variant" {
			it.Stock, it.Price = count(p.Stock), money(p.price(s.gross))
		}
		return []platform.CatalogItem{it}
	}
	out := make([]platform.CatalogItem, 0, len(p.Variants))
	for _, v := range p.Variants {
		it := base
		it.Target = platform.Target{SKU: v.SKU, ProductID: id, VariantID: string(v.ID)}
		it.EAN = v.EAN
		it.Stock, it.Price = count(v.Stock), money(v.price(s.gross))
		if len(v.VariantOptions) > 0 {
			it.Attributes = map[string]string{}
			var vals []string
			for _, o := range v.VariantOptions {
				it.Attributes[o.Name] = o.Value
				vals = append(vals, o.Value)
			}
			it.Name = p.Name + " (" + strings.Join(vals, ", ") + ")"
		}
		out = append(out, it)
	}
	return out
}

// imageURLs reads "images" as a list of URLs or of objects with a "url".
func imageURLs(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strs
	}
	var objs []struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(raw, &objs) != nil {
		return nil
	}
	var out []string
	for _, o := range objs {
		if o.URL != "" {
			out = append(out, o.URL)
		}
	}
	return out
}
