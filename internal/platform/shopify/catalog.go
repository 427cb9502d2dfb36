package shopify

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func catalogQuery(withLocation bool) string {
	level, decl := "", ""
	if withLocation {
		decl = ", $loc: ID!"
		level = `
        inventoryItem { inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } } }`
	}
	return `query Catalog($first: Int!, $after: String` + decl + `) {
  productVariants(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku barcode title price inventoryQuantity
      selectedOptions { name value }
      product { id title descriptionHtml productType vendor featuredMedia { preview { image { url } } } }` + level + `
    }
  }
}`
}

// catalogCost is the requested-cost estimate of one Catalog page of n variants.
func catalogCost(n int) float64 { return float64(3 + 4*n) }

// ListCatalog pages through every product variant (catalog_page_size a page), with its
// stock at the location (the variant's total without one) and price. The cursor is
// Shopify's endCursor.
func (c *Connector) ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (platform.CatalogPage, error) {
	s, err := c.settings(conn)
	if err != nil {
		return platform.CatalogPage{}, err
	}
	vars := map[string]any{"first": s.pageSize, "after": nil}
	if cursor != "" {
		vars["after"] = cursor
	}
	if s.location != "" {
		vars["loc"] = s.location
	}
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: "list_catalog", operation: "Catalog", query: catalogQuery(s.location != ""),
		vars: vars, cost: catalogCost(s.pageSize)})
	if data == nil {
		return platform.CatalogPage{}, err
	}
	var res struct {
		ProductVariants *struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []struct {
				ID                string `json:"id"`
				SKU               flex   `json:"sku"`
				Barcode           flex   `json:"barcode"`
				Title             flex   `json:"title"`
				Price             flex   `json:"price"`
				InventoryQuantity *int64 `json:"inventoryQuantity"`
				SelectedOptions   []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"selectedOptions"`
				Product *struct {
					ID              string `json:"id"`
					Title           flex   `json:"title"`
					DescriptionHTML flex   `json:"descriptionHtml"`
					ProductType     flex   `json:"productType"`
					Vendor          flex   `json:"vendor"`
					FeaturedMedia   *struct {
						Preview *struct {
							Image *struct {
								URL string `json:"url"`
							} `json:"image"`
						} `json:"preview"`
					} `json:"featuredMedia"`
				} `json:"product"`
				InventoryItem *struct {
					InventoryLevel *levelJSON `json:"inventoryLevel"`
				} `json:"inventoryItem"`
			} `json:"nodes"`
		} `json:"productVariants"`
	}
	if json.Unmarshal(data, &res) != nil || res.ProductVariants == nil {
		return platform.CatalogPage{}, transient("list_catalog", "Catalog: unexpected data")
	}
	page := platform.CatalogPage{Items: make([]platform.CatalogItem, 0, len(res.ProductVariants.Nodes))}
	for _, n := range res.ProductVariants.Nodes {
		it := platform.CatalogItem{Target: platform.Target{SKU: n.SKU.str(), VariantID: n.ID}, EAN: n.Barcode.str()}
		name := n.Title.str()
		if p := n.Product; p != nil {
			it.ProductID = p.ID
			it.Description, it.Category = p.DescriptionHTML.str(), p.ProductType.str()
			if name == "" || name == "Default Title" {
				name = p.Title.str()
			} else {
				name = strings.TrimSpace(p.Title.str() + " - " + name)
			}
			if m := p.FeaturedMedia; m != nil && m.Preview != nil && m.Preview.Image != nil && m.Preview.Image.URL != "" {
				it.Images = []string{m.Preview.Image.URL}
			}
			if v := p.Vendor.str(); v != "" {
				it.Attributes = map[string]string{"brand": v}
			}
		}
		it.Name = name
		for _, o := range n.SelectedOptions {
			if o.Name == "" || o.Name == "Title" && o.Value == "Default Title" {
				continue
			}
			if it.Attributes == nil {
				it.Attributes = map[string]string{}
			}
			it.Attributes[o.Name] = o.Value
		}
		switch {
		case s.location != "":
			if n.InventoryItem != nil {
				if q, ok := n.InventoryItem.InventoryLevel.available(); ok {
					it.Stock = &q
				}
			}
		case n.InventoryQuantity != nil:
			q := *n.InventoryQuantity
			it.Stock = &q
		}
		if m, err := amount(n.Price.str(), s.currency); err == nil && n.Price.str() != "" {
			it.Price = &m
		}
		page.Items = append(page.Items, it)
	}
	if res.ProductVariants.PageInfo.HasNextPage {
		page.Next = res.ProductVariants.PageInfo.EndCursor
	}
	return page, nil
}
