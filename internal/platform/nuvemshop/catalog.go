package nuvemshop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

type variantJSON struct {
	ID               flex                `json:"id"`
	ProductID        flex                `json:"product_id"`
	Price            flex                `json:"price"`
	PromotionalPrice flex                `json:"promotional_price"`
	Stock            flex                `json:"stock"`
	SKU              flex                `json:"sku"`
	Barcode          flex                `json:"barcode"`
	Values           []map[string]string `json:"values"`
	InventoryLevels  []struct {
		LocationID flex `json:"location_id"`
		Stock      flex `json:"stock"`
	} `json:"inventory_levels"`
}

type productJSON struct {
	ID          flex              `json:"id"`
	Name        json.RawMessage   `json:"name"`
	Description json.RawMessage   `json:"description"`
	Attributes  []json.RawMessage `json:"attributes"`
	Categories  []struct {
		Name json.RawMessage `json:"name"`
	} `json:"categories"`
	Images []struct {
		Src flex `json:"src"`
	} `json:"images"`
	Variants []variantJSON `json:"variants"`
}

// i18n picks the store language from a multi-language field ({"pt":"..","es":".."}),
// falling back to pt, es, en, then any; a plain string is taken as is.
func i18n(raw json.RawMessage, lang string) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var m map[string]*string
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range []string{lang, "pt", "es", "en"} {
		if v := m[k]; v != nil && *v != "" {
			return strings.TrimSpace(*v)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := m[k]; v != nil && *v != "" {
			return strings.TrimSpace(*v)
		}
	}
	return ""
}

// variantStock is the variant's stock: the configured location's level, else the sum
// of its inventory levels, else the legacy stock field; nil when unlimited.
func variantStock(v variantJSON, location string) *int64 {
	if len(v.InventoryLevels) > 0 {
		var sum int64
		any := false
		for _, l := range v.InventoryLevels {
			n, ok := parseQuantity(l.Stock.Str())
			if !ok {
				continue
			}
			if location != "" && l.LocationID.Str() == location {
				return &n
			}
			sum += n
			any = true
		}
		if any && location == "" {
			return &sum
		}
	}
	if n, ok := parseQuantity(v.Stock.Str()); ok {
		return &n
	}
	return nil
}

// sellingPrice is what a buyer pays: the promotional price when set below the price.
func sellingPrice(v variantJSON, currency string) *domain.Money {
	p, err := decimal.NewFromString(v.Price.Str())
	if err != nil {
		return nil
	}
	if promo, err := decimal.NewFromString(v.PromotionalPrice.Str()); err == nil && promo.IsPositive() && promo.LessThan(p) {
		p = promo
	}
	return &domain.Money{Amount: p, Currency: currency}
}

// ReadBack reads stock and selling price of each target, fetching up to 30 products a
// call with GET /products?ids=...; a product missing from that answer is read with
// GET /products/{id}. Targets that fail are left out and their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	var errs []error
	var order []string
	byProduct := map[string][]platform.Target{}
	for _, t := range targets {
		if !validID(t.ProductID) || (t.VariantID != "" && !validID(t.VariantID)) {
			errs = append(errs, permanent("read_back", "sku %s: invalid Nuvemshop product/variant id %q/%q", t.SKU, truncate(t.ProductID, 64), truncate(t.VariantID, 64)))
			continue
		}
		if _, ok := byProduct[t.ProductID]; !ok {
			order = append(order, t.ProductID)
		}
		byProduct[t.ProductID] = append(byProduct[t.ProductID], t)
	}
	var chunks [][]string
	for len(order) > 0 {
		n := min(readBackIDsPerCall, len(order))
		chunks = append(chunks, order[:n])
		order = order[n:]
	}
	found := make([]map[string]productJSON, len(chunks))
	chunkErrs := make([]error, len(chunks))
	c.parallel(len(chunks), func(i int) {
		found[i], chunkErrs[i] = c.productsByID(ctx, conn, s, chunks[i])
	})
	now := c.opts.Now().UTC()
	var snaps []platform.Snapshot
	for i, ids := range chunks {
		if chunkErrs[i] != nil {
			errs = append(errs, chunkErrs[i])
			continue
		}
		for _, pid := range ids {
			p, ok := found[i][pid]
			if !ok {
				var err error
				if p, err = c.product(ctx, conn, s, pid); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			for _, t := range byProduct[pid] {
				v, err := pickVariant(p, t)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				snaps = append(snaps, platform.Snapshot{Target: t, Stock: variantStock(v, s.locationID),
					Price: sellingPrice(v, s.currency), ReadAt: now})
			}
		}
	}
	return snaps, errors.Join(errs...)
}

func pickVariant(p productJSON, t platform.Target) (variantJSON, error) {
	if t.VariantID == "" && len(p.Variants) == 1 {
		return p.Variants[0], nil
	}
	for _, v := range p.Variants {
		if v.ID.Str() == t.VariantID {
			return v, nil
		}
	}
	if t.VariantID == "" {
		return variantJSON{}, permanent("read_back", "sku %s: product %s has %d variants; the mapping needs a variant id", t.SKU, t.ProductID, len(p.Variants))
	}
	return variantJSON{}, permanent("read_back", "variant %s of product %s (sku %s) not found on Nuvemshop", t.VariantID, t.ProductID, t.SKU)
}

func (c *Connector) productsByID(ctx context.Context, conn domain.Connection, s settings, ids []string) (map[string]productJSON, error) {
	r := request{op: "read_back", method: http.MethodGet, path: "/products", query: url.Values{
		"ids": {strings.Join(ids, ",")}, "per_page": {strconv.Itoa(len(ids))}}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		if pe := platform.AsError(err); pe.StatusCode == http.StatusNotFound {
			return map[string]productJSON{}, nil // none of them: read one by one
		}
		return nil, err
	}
	var list []productJSON
	if json.Unmarshal(resp.body, &list) != nil {
		return nil, garbage(r, resp)
	}
	out := make(map[string]productJSON, len(list))
	for _, p := range list {
		out[p.ID.Str()] = p
	}
	return out, nil
}

func (c *Connector) product(ctx context.Context, conn domain.Connection, s settings, id string) (productJSON, error) {
	r := request{op: "read_back", method: http.MethodGet, path: "/products/" + url.PathEscape(id),
		notFound: fmt.Sprintf("product %s not found on Nuvemshop", id)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return productJSON{}, err
	}
	var p productJSON
	if !asObject(resp.body, &p) || p.ID.Str() == "" {
		return productJSON{}, garbage(r, resp)
	}
	return p, nil
}

// ListCatalog pages through GET /products?page=N&per_page=catalog_page_size (200 max);
// one item per variant. The cursor is the next page number. Nuvemshop answers 404 for
// a page past the last one, which ends the catalogue.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	const op = "list_catalog"
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	page := 1
	if cursor != "" {
		if page, err = strconv.Atoi(cursor); err != nil || page < 1 || page > 1000000 {
			return platform.CatalogPage{}, permanent(op, "invalid catalogue cursor %q", truncate(cursor, 20))
		}
	}
	r := request{op: op, method: http.MethodGet, path: "/products", query: url.Values{
		"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(s.pageSize)}}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		if pe := platform.AsError(err); pe.StatusCode == http.StatusNotFound {
			return platform.CatalogPage{}, nil
		}
		return platform.CatalogPage{}, err
	}
	var list []productJSON
	if json.Unmarshal(resp.body, &list) != nil {
		return platform.CatalogPage{}, garbage(r, resp)
	}
	var out platform.CatalogPage
	for _, p := range list {
		out.Items = append(out.Items, catalogItems(p, s)...)
	}
	if len(list) >= s.pageSize || strings.Contains(resp.header.Get("Link"), `rel="next"`) {
		out.Next = strconv.Itoa(page + 1)
	}
	return out, nil
}

func catalogItems(p productJSON, s settings) []platform.CatalogItem {
	name := i18n(p.Name, s.language)
	desc := i18n(p.Description, s.language)
	var attrs []string
	for _, a := range p.Attributes {
		attrs = append(attrs, i18n(a, s.language))
	}
	category := ""
	if len(p.Categories) > 0 {
		category = i18n(p.Categories[0].Name, s.language)
	}
	var images []string
	for _, im := range p.Images {
		if src := im.Src.Str(); src != "" {
			images = append(images, src)
		}
	}
	items := make([]platform.CatalogItem, 0, len(p.Variants))
	for _, v := range p.Variants {
		it := platform.CatalogItem{
			Target: platform.Target{SKU: v.SKU.Str(), ProductID: p.ID.Str(), VariantID: v.ID.Str()},
			Name:   name, EAN: v.Barcode.Str(), Stock: variantStock(v, s.locationID), Price: sellingPrice(v, s.currency),
			Description: desc, Category: category, Images: images,
		}
		var labels []string
		for i, val := range v.Values {
			text := i18n(mustJSON(val), s.language)
			if text == "" {
				continue
			}
			labels = append(labels, text)
			if i < len(attrs) && attrs[i] != "" {
				if it.Attributes == nil {
					it.Attributes = map[string]string{}
				}
				it.Attributes[attrs[i]] = text
			}
		}
		if len(labels) > 0 {
			it.Name = strings.TrimSpace(name + " (" + strings.Join(labels, ", ") + ")")
		}
		items = append(items, it)
	}
	return items
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
