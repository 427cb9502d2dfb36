package tray

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

var _ platform.CatalogReader = (*Connector)(nil)

// catalogPageSize is Tray's maxLimit for lists.
const catalogPageSize = 50

// ListCatalog pages through GET /products (products without variants) and then
// GET /products/variants (every variant), so each sellable item appears once. The cursor
// is "products:<page>" or "variants:<page>"; "" starts at the first product page.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	phase, page, err := parseCatalogCursor(cursor)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	path := "/products"
	if phase == "variants" {
		path = "/products/variants"
	}
	r := request{op: "list_catalog", method: http.MethodGet, path: path,
		query: url.Values{"limit": {strconv.Itoa(catalogPageSize)}, "page": {strconv.Itoa(page)}}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	var body struct {
		Paging struct {
			Total flexString `json:"total"`
			Page  flexString `json:"page"`
			Limit flexString `json:"limit"`
		} `json:"paging"`
		Products []struct {
			Product *catalogJSON `json:"Product"`
		} `json:"Products"`
		Variants []struct {
			Variant *catalogJSON `json:"Variant"`
		} `json:"Variants"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		return platform.CatalogPage{}, transient("list_catalog", "GET %s: unexpected body (%s)", path, snippet(resp.body))
	}
	var out platform.CatalogPage
	var seen int
	if phase == "products" {
		seen = len(body.Products)
		for _, p := range body.Products {
			if p.Product == nil || len(p.Product.Variants) > 0 {
				continue // a product with variants sells through them: listed in the second phase
			}
			out.Items = append(out.Items, p.Product.item(platform.Target{ProductID: string(p.Product.ID)}, s.currency))
		}
	} else {
		seen = len(body.Variants)
		for _, v := range body.Variants {
			if v.Variant == nil {
				continue
			}
			out.Items = append(out.Items, v.Variant.item(platform.Target{ProductID: string(v.Variant.ProductID), VariantID: string(v.Variant.ID)}, s.currency))
		}
	}
	total, _ := strconv.Atoi(strings.TrimSpace(string(body.Paging.Total)))
	limit, _ := strconv.Atoi(strings.TrimSpace(string(body.Paging.Limit)))
	if limit <= 0 {
		limit = catalogPageSize
	}
	more := seen > 0 && page*limit < total
	switch {
	case more:
		out.Next = fmt.Sprintf("%s:%d", phase, page+1)
	case phase == "products":
		out.Next = "variants:1"
	}
	return out, nil
}

func parseCatalogCursor(cursor string) (string, int, error) {
	if cursor == "" {
		return "products", 1, nil
	}
	phase, n, ok := strings.Cut(cursor, ":")
	page, err := strconv.Atoi(n)
	if !ok || err != nil || page < 1 || (phase != "products" && phase != "variants") {
		return "", 0, &platform.Error{Platform: Name, Op: "list_catalog", Kind: platform.Permanent,
			Message: fmt.Sprintf("bad catalogue cursor %q", cursor)}
	}
	return phase, page, nil
}

// catalogJSON is a product or variant as Tray lists them.
type catalogJSON struct {
	itemJSON
	ID        flexString `json:"id"`
	ProductID flexString `json:"product_id"`
	Name      string     `json:"name"`
	EAN       flexString `json:"ean"`
	Variants  []struct {
		ID flexString `json:"id"`
	} `json:"Variant"`
}

func (c *catalogJSON) item(t platform.Target, currency string) platform.CatalogItem {
	it := platform.CatalogItem{Target: t, Name: c.Name, EAN: string(c.EAN)}
	if n, ok := parseQuantity(string(c.Stock)); ok {
		it.Stock = &n
	}
	if p, ok := c.sellingPrice(); ok {
		it.Price = &domain.Money{Amount: p, Currency: currency}
	}
	return it
}
