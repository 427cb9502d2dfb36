package shopify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Push writes stock with inventorySetQuantities (up to stock_batch quantities a call)
// and prices and product data with productVariantsBulkUpdate/productUpdate, several
// products a call as aliased mutations. One error (or nil) per update, in order.
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
	var stock []*stockItem
	products := map[string]*productOps{}
	var order []string
	for i, u := range updates {
		if u.Stock == nil && u.Price == nil && u.Cost == nil && u.ListPrice == nil && u.Product == nil {
			continue
		}
		variant, ok := toGID("ProductVariant", u.VariantID)
		if !ok {
			errs[i] = permanent("push", "sku %s: mapping needs a product variant id (GID or number), got %q", u.SKU, u.VariantID)
			continue
		}
		if u.Stock != nil {
			switch {
			case *u.Stock < 0:
				errs[i] = permanent("push", "sku %s: negative stock %d", u.SKU, *u.Stock)
				continue
			case *u.Stock > 1_000_000_000:
				errs[i] = permanent("push", "sku %s: stock %d is above Shopify's 1,000,000,000", u.SKU, *u.Stock)
				continue
			case s.location == "":
				errs[i] = permanent("push", "connection %s: setting location_id is required to push stock", conn.ID)
				continue
			}
		}
		var vin map[string]any
		var pin map[string]any
		if u.Price != nil || u.Cost != nil || u.ListPrice != nil || u.Product != nil {
			if vin, pin, err = variantInput(u, variant, s.currency); err != nil {
				errs[i] = permanent("push", "sku %s: %v", u.SKU, err)
				continue
			}
			product, ok := toGID("Product", u.ProductID)
			if !ok {
				errs[i] = permanent("push", "sku %s: mapping needs a product id (GID or number) to write prices, got %q", u.SKU, u.ProductID)
				continue
			}
			ops := products[product]
			if ops == nil {
				ops = &productOps{product: product}
				products[product] = ops
				order = append(order, product)
			}
			if len(vin) > 1 {
				ops.variants = append(ops.variants, vin)
				ops.variantIdx = append(ops.variantIdx, i)
			}
			if pin != nil {
				pin["id"] = product
				ops.update = pin
				ops.updateIdx = append(ops.updateIdx, i)
			}
		}
		if u.Stock != nil {
			stock = append(stock, &stockItem{idx: i, sku: u.SKU, variant: variant, qty: *u.Stock})
		}
	}
	// One variant written twice in a call (two SKUs mapped to it): the later update
	// wins and the earlier gets its outcome, as Shopify refuses duplicate pairs.
	same := map[int]int{} // superseded update index -> winning index
	stock = dedupeStock(stock, same)
	stockErrs := map[int]error{}
	if len(stock) > 0 {
		c.pushStock(ctx, conn, s, st, stock, stockErrs)
	}
	catalogErrs := map[int]error{}
	if len(order) > 0 {
		var ops []*productOps
		for _, p := range order {
			ops = append(ops, splitOps(dedupeVariants(products[p], same))...)
		}
		c.pushCatalog(ctx, conn, s, ops, catalogErrs)
	}
	for i := range errs {
		if errs[i] == nil {
			errs[i] = merge(stockErrs[i], catalogErrs[i])
		}
	}
	for loser, winner := range same {
		if errs[loser] == nil {
			errs[loser] = errs[winner]
		}
	}
	return errs
}

func dedupeStock(items []*stockItem, same map[int]int) []*stockItem {
	last := map[string]int{}
	for i, it := range items {
		last[it.variant] = i
	}
	out := items[:0:0]
	for i, it := range items {
		if j := last[it.variant]; j != i {
			same[it.idx] = items[j].idx
			continue
		}
		out = append(out, it)
	}
	return out
}

// dedupeVariants keeps the last input of each variant of a product.
func dedupeVariants(op *productOps, same map[int]int) *productOps {
	last := map[any]int{}
	for i, v := range op.variants {
		last[v["id"]] = i
	}
	if len(last) == len(op.variants) {
		return op
	}
	out := &productOps{product: op.product, update: op.update, updateIdx: op.updateIdx}
	for i, v := range op.variants {
		if j := last[v["id"]]; j != i {
			same[op.variantIdx[i]] = op.variantIdx[j]
			continue
		}
		out.variants = append(out.variants, v)
		out.variantIdx = append(out.variantIdx, op.variantIdx[i])
	}
	return out
}

// splitOps keeps each bulk update within Shopify's 250-item input arrays.
func splitOps(op *productOps) []*productOps {
	if len(op.variants) <= MaxInputArray {
		return []*productOps{op}
	}
	var out []*productOps
	for start := 0; start < len(op.variants); start += MaxInputArray {
		end := min(start+MaxInputArray, len(op.variants))
		part := &productOps{product: op.product, variants: op.variants[start:end], variantIdx: op.variantIdx[start:end]}
		if start == 0 {
			part.update, part.updateIdx = op.update, op.updateIdx
		}
		out = append(out, part)
	}
	return out
}

// merge keeps one classified error for an update with two parts: the retryable one
// wins (a retry re-sends both parts), then the first.
func merge(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	if platform.AsError(a).Kind == platform.Permanent && platform.AsError(b).Kind != platform.Permanent {
		return b
	}
	return a
}

// variantInput maps price, cost, list price and variant-level product data onto a
// ProductVariantsBulkInput, and product-level data onto a ProductUpdateInput (nil if none).
func variantInput(u platform.Update, variant, currency string) (map[string]any, map[string]any, error) {
	vin := map[string]any{"id": variant}
	if u.Price != nil {
		p, err := money(*u.Price, currency)
		if err != nil {
			return nil, nil, fmt.Errorf("price: %v", err)
		}
		vin["price"] = p
		// Shopify shows compareAtPrice crossed out when above the price; clear it otherwise.
		vin["compareAtPrice"] = nil
		if u.ListPrice != nil && u.ListPrice.Amount.GreaterThan(u.Price.Amount) {
			l, err := money(*u.ListPrice, currency)
			if err != nil {
				return nil, nil, fmt.Errorf("list price: %v", err)
			}
			vin["compareAtPrice"] = l
		}
	}
	item := map[string]any{}
	if u.Cost != nil {
		cst, err := money(*u.Cost, currency)
		if err != nil {
			return nil, nil, fmt.Errorf("cost: %v", err)
		}
		item["cost"] = cst
	}
	var pin map[string]any
	if p := u.Product; p != nil {
		if p.EAN != "" {
			vin["barcode"] = p.EAN
		}
		if p.WeightGrams > 0 {
			item["measurement"] = map[string]any{"weight": map[string]any{"unit": "GRAMS", "value": p.WeightGrams}}
		}
		pin = map[string]any{"status": "DRAFT"}
		if p.Published {
			pin["status"] = "ACTIVE"
		}
		if strings.TrimSpace(p.Name) != "" {
			pin["title"] = p.Name
		}
		if p.Description != "" {
			pin["descriptionHtml"] = p.Description
		}
		if p.Brand != "" {
			pin["vendor"] = p.Brand
		}
		if p.Category != "" {
			pin["productType"] = p.Category
		}
	}
	if len(item) > 0 {
		vin["inventoryItem"] = item
	}
	return vin, pin, nil
}

type stockItem struct {
	idx     int
	sku     string
	variant string
	qty     int64
	from    *int64 // changeFromQuantity sent
}

// setStockMutation carries the idempotency key as a literal, the way Shopify's examples
// write it (a UUID needs no escaping).
func setStockMutation(key string) string {
	return `mutation SetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "` + key + `") {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}`
}

// pushStock writes absolute available quantities at the connection's location.
//
// changeFromQuantity (mandatory from 2026-04): in "known" mode the connector sends the
// quantity it last read or wrote for the item, reading it first (one nodes query per
// read_batch variants, which also resolves the inventory item) when unknown. A sale on
// Shopify in between makes the write CHANGE_FROM_QUANTITY_STALE: the item is re-read
// and written again, StaleRetries times at most. In "none" mode it sends an explicit
// null (the ERP is the source of truth) and only resolves inventory items.
//
// A call is all-or-nothing: items named by an indexed userError are taken out (stale
// ones re-read) and the rest re-sent; an error that names no item splits the call in
// halves until the culprit stands alone.
func (c *Connector) pushStock(ctx context.Context, conn domain.Connection, s settings, st *connState, items []*stockItem, errs map[int]error) {
	pending := items
	for round := 0; len(pending) > 0 && round <= c.opts.StaleRetries; round++ {
		pending = c.resolveStock(ctx, conn, s, st, pending, errs)
		var queue [][]*stockItem
		for start := 0; start < len(pending); start += s.stockBatch {
			queue = append(queue, pending[start:min(start+s.stockBatch, len(pending))])
		}
		pending = nil
		for len(queue) > 0 {
			chunk := queue[0]
			queue = queue[1:]
			stale, retry, split := c.setStock(ctx, conn, s, st, chunk, errs)
			pending = append(pending, stale...)
			switch {
			case len(retry) == 0:
			case len(stale) > 0 && round < c.opts.StaleRetries:
				pending = append(pending, retry...) // go with the re-read ones: one call, not two
			default:
				queue = append(queue, retry)
			}
			if split {
				half := len(chunk) / 2
				queue = append(queue, chunk[:half], chunk[half:])
			}
		}
	}
	for _, it := range pending {
		errs[it.idx] = transient("push", "sku %s: stock kept changing on Shopify while writing (CHANGE_FROM_QUANTITY_STALE); will retry", it.sku)
	}
}

// resolveStock makes sure every item has its inventory item (and, in "known" mode, the
// current quantity), reading what the cache lacks. Items that cannot be written get
// their error; the rest come back.
func (c *Connector) resolveStock(ctx context.Context, conn domain.Connection, s settings, st *connState, items []*stockItem, errs map[int]error) []*stockItem {
	var need []string
	seen := map[string]bool{}
	for _, it := range items {
		e, ok := st.lookup(it.variant)
		if (!ok || (s.changeFrom == changeFromKnown && !e.known)) && !seen[it.variant] {
			need = append(need, it.variant)
			seen[it.variant] = true
		}
	}
	failed := map[string]error{}
	for start := 0; start < len(need); start += s.readBatch {
		ids := need[start:min(start+s.readBatch, len(need))]
		nodes, err := c.readVariants(ctx, conn, s, "push", ids)
		for _, id := range ids {
			switch n, ok := nodes[id]; {
			case err != nil:
				failed[id] = err
			case !ok:
				failed[id] = permanent("push", "variant %s not found on Shopify", id)
			case n.item == "":
				failed[id] = permanent("push", "variant %s has no inventory item", id)
			case !n.stocked:
				failed[id] = permanent("push", "variant %s is not stocked at location %s (ITEM_NOT_STOCKED_AT_LOCATION)", id, s.location)
			default:
				st.remember(id, invEntry{item: n.item, known: true, qty: n.available})
			}
		}
	}
	out := items[:0:0]
	for _, it := range items {
		if err := failed[it.variant]; err != nil {
			pe := *platform.AsError(err)
			pe.Message = "sku " + it.sku + ": " + pe.Message
			errs[it.idx] = &pe
			continue
		}
		out = append(out, it)
	}
	return out
}

// setStock sends one inventorySetQuantities call. It returns the stale items (to re-read),
// the innocent items of a rejected call (to re-send), and whether to split the chunk.
func (c *Connector) setStock(ctx context.Context, conn domain.Connection, s settings, st *connState, chunk []*stockItem, errs map[int]error) (stale, retry []*stockItem, split bool) {
	quantities := make([]map[string]any, 0, len(chunk))
	for _, it := range chunk {
		e, _ := st.lookup(it.variant)
		q := map[string]any{"inventoryItemId": e.item, "locationId": s.location, "quantity": it.qty, "changeFromQuantity": nil}
		it.from = nil
		if s.changeFrom == changeFromKnown && e.known {
			from := e.qty
			it.from = &from
			q["changeFromQuantity"] = from
		}
		quantities = append(quantities, q)
	}
	input := map[string]any{"name": "available", "reason": s.reason,
		"referenceDocumentUri": "ponte://connection/" + conn.ID, "quantities": quantities}
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: "push", operation: "SetStock", query: setStockMutation(newKey()),
		vars: map[string]any{"input": input}, cost: 10})
	var res struct {
		Set *struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"inventorySetQuantities"`
	}
	if err == nil && data != nil && (json.Unmarshal(data, &res) != nil || res.Set == nil) {
		err = transient("push", "SetStock: answer without inventorySetQuantities")
	}
	if data == nil || res.Set == nil {
		for _, it := range chunk {
			st.forget(it.variant) // the write may or may not have happened: re-read next time
			errs[it.idx] = err
		}
		return nil, nil, false
	}
	if len(res.Set.UserErrors) == 0 {
		for _, it := range chunk {
			e, _ := st.lookup(it.variant)
			st.remember(it.variant, invEntry{item: e.item, known: true, qty: it.qty})
		}
		return nil, nil, false
	}
	byIdx := map[int]userError{}
	var loose []userError
	for _, ue := range res.Set.UserErrors {
		if i, ok := fieldIndex(ue.Field, "quantities"); ok && i < len(chunk) {
			byIdx[i] = ue
		} else {
			loose = append(loose, ue)
		}
	}
	for i, it := range chunk {
		ue, bad := byIdx[i]
		switch {
		case bad && strings.EqualFold(ue.Code, "CHANGE_FROM_QUANTITY_STALE"), bad && strings.EqualFold(ue.Code, "COMPARE_QUANTITY_STALE"):
			e, _ := st.lookup(it.variant)
			st.remember(it.variant, invEntry{item: e.item}) // quantity unknown now
			stale = append(stale, it)
		case bad:
			errs[it.idx] = permanent("push", "sku %s: %s", it.sku, describeUserError(ue))
		case len(loose) == 0:
			retry = append(retry, it)
		}
	}
	if len(loose) > 0 && len(byIdx) == 0 {
		if len(chunk) == 1 {
			errs[chunk[0].idx] = permanent("push", "sku %s: %s", chunk[0].sku, describeUserError(loose[0]))
			return stale, nil, false
		}
		return stale, nil, true
	}
	if len(loose) > 0 { // indexed and loose errors together: re-send the innocent ones
		for i, it := range chunk {
			if _, bad := byIdx[i]; !bad {
				retry = append(retry, it)
			}
		}
	}
	return stale, retry, false
}

// fieldIndex finds the list index after name in a userError field path
// (["input","quantities","3","quantity"] -> 3).
func fieldIndex(field []string, name string) (int, bool) {
	for i := 0; i+1 < len(field); i++ {
		if field[i] == name {
			n, err := strconv.Atoi(field[i+1])
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}

func describeUserError(ue userError) string {
	msg := truncate(strings.TrimSpace(ue.Message), 200)
	if ue.Code != "" {
		msg += " (" + ue.Code + ")"
	}
	if len(ue.Field) > 0 {
		msg += " [" + strings.Join(ue.Field, ".") + "]"
	}
	return redact(msg)
}

// newKey is a fresh @idempotent key (a random UUID) for one logical write.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// productOps are the writes for one product: its variants' bulk input and a product update.
type productOps struct {
	product    string
	variants   []map[string]any
	variantIdx []int // update index of each variant input
	update     map[string]any
	updateIdx  []int
}

// pushCatalog sends price/product writes, price_products_per_call products a request.
func (c *Connector) pushCatalog(ctx context.Context, conn domain.Connection, s settings, ops []*productOps, errs map[int]error) {
	for start := 0; start < len(ops); start += s.priceProducts {
		c.catalogCall(ctx, conn, s, ops[start:min(start+s.priceProducts, len(ops))], errs)
	}
}

func (c *Connector) catalogCall(ctx context.Context, conn domain.Connection, s settings, ops []*productOps, errs map[int]error) {
	var decl, body []string
	vars := map[string]any{}
	aliases := 0
	for i, op := range ops {
		if len(op.variants) > 0 {
			decl = append(decl, fmt.Sprintf("$p%d: ID!, $v%d: [ProductVariantsBulkInput!]!", i, i))
			body = append(body, fmt.Sprintf("  v%d: productVariantsBulkUpdate(productId: $p%d, variants: $v%d, allowPartialUpdates: true) {\n    productVariants { id }\n    userErrors { field message code }\n  }", i, i, i))
			vars[fmt.Sprintf("p%d", i)], vars[fmt.Sprintf("v%d", i)] = op.product, op.variants
			aliases++
		}
		if op.update != nil {
			decl = append(decl, fmt.Sprintf("$u%d: ProductUpdateInput!", i))
			body = append(body, fmt.Sprintf("  u%d: productUpdate(product: $u%d) {\n    product { id }\n    userErrors { field message }\n  }", i, i))
			vars[fmt.Sprintf("u%d", i)] = op.update
			aliases++
		}
	}
	query := "mutation UpdateCatalog(" + strings.Join(decl, ", ") + ") {\n" + strings.Join(body, "\n") + "\n}"
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: "push", operation: "UpdateCatalog", query: query, vars: vars, cost: float64(10 * aliases)})
	var res map[string]*struct {
		UserErrors []userError `json:"userErrors"`
	}
	if data != nil && json.Unmarshal(data, &res) != nil {
		data, err = nil, transient("push", "UpdateCatalog: unexpected data")
	}
	fail := func(idx []int, e error) {
		for _, i := range idx {
			errs[i] = e
		}
	}
	for i, op := range ops {
		if len(op.variants) > 0 {
			r := res[fmt.Sprintf("v%d", i)]
			switch {
			case data == nil:
				fail(op.variantIdx, err)
			case r == nil:
				fail(op.variantIdx, nullAlias(err, "productVariantsBulkUpdate", op.product))
			default:
				for _, ue := range r.UserErrors {
					if j, ok := fieldIndex(ue.Field, "variants"); ok && j < len(op.variantIdx) {
						errs[op.variantIdx[j]] = permanent("push", "variant %v: %s", op.variants[j]["id"], describeUserError(ue))
					} else {
						fail(op.variantIdx, permanent("push", "product %s: %s", op.product, describeUserError(ue)))
					}
				}
			}
		}
		if op.update != nil {
			r := res[fmt.Sprintf("u%d", i)]
			switch {
			case data == nil:
				fail(op.updateIdx, err)
			case r == nil:
				fail(op.updateIdx, nullAlias(err, "productUpdate", op.product))
			case len(r.UserErrors) > 0:
				fail(op.updateIdx, permanent("push", "product %s: %s", op.product, describeUserError(r.UserErrors[0])))
			}
		}
	}
}

func nullAlias(err error, mutation, product string) error {
	msg := fmt.Sprintf("%s for %s returned nothing", mutation, product)
	if err != nil {
		msg += ": " + platform.AsError(err).Message
	}
	return permanent("push", "%s", msg)
}

// variantNode is what a nodes() read returns for one variant.
type variantNode struct {
	product   string
	item      string
	stocked   bool // has an inventory level at the location
	available int64
	total     *int64
	price     string
}

func variantsQuery(withLocation bool) string {
	level, decl := "", ""
	if withLocation {
		decl = ", $loc: ID!"
		level = `
        inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } }`
	}
	return `query Variants($ids: [ID!]!` + decl + `) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id
      price
      inventoryQuantity
      product { id }
      inventoryItem {
        id` + level + `
      }
    }
  }
}`
}

// variantsCost is the requested cost estimate of a Variants read of n ids.
func variantsCost(n int) float64 { return float64(2 + 3*n) }

type quantityJSON struct {
	Name     string `json:"name"`
	Quantity *int64 `json:"quantity"`
}

type levelJSON struct {
	Quantities []quantityJSON `json:"quantities"`
}

func (l *levelJSON) available() (int64, bool) {
	if l == nil {
		return 0, false
	}
	for _, q := range l.Quantities {
		if q.Name == "available" && q.Quantity != nil {
			return *q.Quantity, true
		}
	}
	return 0, false
}

// readVariants reads variants by GID; missing ones are absent from the map.
func (c *Connector) readVariants(ctx context.Context, conn domain.Connection, s settings, op string, ids []string) (map[string]variantNode, error) {
	vars := map[string]any{"ids": ids}
	if s.location != "" {
		vars["loc"] = s.location
	}
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: op, operation: "Variants", query: variantsQuery(s.location != ""),
		vars: vars, cost: variantsCost(len(ids))})
	if data == nil {
		return nil, err
	}
	var res struct {
		Nodes []*struct {
			ID                string  `json:"id"`
			Price             *string `json:"price"`
			InventoryQuantity *int64  `json:"inventoryQuantity"`
			Product           *struct {
				ID string `json:"id"`
			} `json:"product"`
			InventoryItem *struct {
				ID             string     `json:"id"`
				InventoryLevel *levelJSON `json:"inventoryLevel"`
			} `json:"inventoryItem"`
		} `json:"nodes"`
	}
	if json.Unmarshal(data, &res) != nil {
		return nil, transient(op, "Variants: unexpected data")
	}
	out := make(map[string]variantNode, len(res.Nodes))
	for _, n := range res.Nodes {
		if n == nil || n.ID == "" {
			continue
		}
		v := variantNode{total: n.InventoryQuantity}
		if n.Price != nil {
			v.price = *n.Price
		}
		if n.Product != nil {
			v.product = n.Product.ID
		}
		if n.InventoryItem != nil {
			v.item = n.InventoryItem.ID
			v.available, v.stocked = n.InventoryItem.InventoryLevel.available()
		}
		out[n.ID] = v
	}
	return out, nil
}

// ReadBack reads stock (at the location, or the variant's total without one) and price.
// Targets that fail are left out and their errors joined.
func (c *Connector) ReadBack(ctx context.Context, conn domain.Connection, targets []platform.Target) ([]platform.Snapshot, error) {
	s, err := c.settings(conn)
	if err != nil {
		return nil, err
	}
	st := c.state(conn, s)
	var errs []error
	ids := make([]string, 0, len(targets))
	gids := make([]string, len(targets))
	seen := map[string]bool{}
	for i, t := range targets {
		gid, ok := toGID("ProductVariant", t.VariantID)
		if !ok {
			errs = append(errs, permanent("read_back", "sku %s: mapping needs a product variant id, got %q", t.SKU, t.VariantID))
			continue
		}
		gids[i] = gid
		if !seen[gid] {
			seen[gid] = true
			ids = append(ids, gid)
		}
	}
	nodes := map[string]variantNode{}
	failed := map[string]error{}
	for start := 0; start < len(ids); start += s.readBatch {
		chunk := ids[start:min(start+s.readBatch, len(ids))]
		got, err := c.readVariants(ctx, conn, s, "read_back", chunk)
		for _, id := range chunk {
			if err != nil {
				failed[id] = err
			} else if n, ok := got[id]; ok {
				nodes[id] = n
			}
		}
	}
	now := c.opts.Now().UTC()
	out := make([]platform.Snapshot, 0, len(targets))
	reported := map[error]bool{}
	for i, t := range targets {
		gid := gids[i]
		if gid == "" {
			continue
		}
		if err := failed[gid]; err != nil {
			if !reported[err] {
				reported[err] = true
				errs = append(errs, err)
			}
			continue
		}
		n, ok := nodes[gid]
		if !ok {
			errs = append(errs, permanent("read_back", "sku %s: variant %s not found on Shopify", t.SKU, gid))
			continue
		}
		snap := platform.Snapshot{Target: t, ReadAt: now}
		switch {
		case s.location != "" && n.stocked:
			q := n.available
			snap.Stock = &q
			st.remember(gid, invEntry{item: n.item, known: true, qty: q})
		case s.location == "" && n.total != nil:
			q := *n.total
			snap.Stock = &q
		}
		if m, err := amount(n.price, s.currency); err == nil && n.price != "" {
			snap.Price = &m
		}
		out = append(out, snap)
	}
	return out, errors.Join(errs...)
}
