package shopifysim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

type change struct {
	product, variant string
	stock            int64
}

// execute runs one admitted operation.
func (s *Server) execute(st *store, b gqlBody, now time.Time) (data any, actual float64, errs []map[string]any, changes []change) {
	op := b.OperationName
	write := op == "SetStock" || op == "UpdateCatalog"
	st.count(op, write)
	switch op {
	case "SetStock":
		if !strings.Contains(b.Query, "inventorySetQuantities(") {
			return nil, 0, gqlErr("SetStock must call inventorySetQuantities", "BAD_REQUEST"), nil
		}
		key := idempotencyKey(b)
		if key == "" {
			return nil, 0, gqlErr("The @idempotent directive with a key is required for inventorySetQuantities from 2026-04", "BAD_REQUEST"), nil
		}
		d, e, ch := st.setQuantities(b.Variables["input"], key)
		return d, 10, e, ch
	case "UpdateCatalog":
		d, n := st.updateCatalog(b)
		return d, float64(10 * n), nil, nil
	case "Variants":
		return st.readVariants(b)
	case "Catalog":
		return st.catalog(b)
	case "PollOrders":
		return st.pollOrders(b)
	case "GetOrder", "FulfillmentOrders":
		var id string
		_ = json.Unmarshal(b.Variables["id"], &id)
		st.data.Lock()
		defer st.data.Unlock()
		o := st.orders[id]
		if o == nil {
			return map[string]any{"order": nil}, 1, nil, nil
		}
		if op == "FulfillmentOrders" {
			var nodes []map[string]any
			for _, fo := range st.fos[id] {
				nodes = append(nodes, map[string]any{"id": fo.ID, "status": fo.Status})
			}
			return map[string]any{"order": map[string]any{"id": id, "fulfillmentOrders": map[string]any{"nodes": nodes}}}, 5, nil, nil
		}
		return map[string]any{"order": pageLines(o, b.Variables["after"])}, 25, nil, nil
	case "CancelOrder", "MarkPaid", "CloseOrder", "CreateFulfillment", "SetInvoice":
		return st.orderMutation(b, now), 10, nil, nil
	}
	return nil, 0, gqlErr("unknown operation", "BAD_REQUEST"), nil
}

type userErr struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
}

var validReasons = map[string]bool{"correction": true, "cycle_count_available": true, "damaged": true, "movement_created": true,
	"movement_updated": true, "movement_received": true, "movement_canceled": true, "other": true, "promotion": true,
	"quality_control": true, "received": true, "reservation_created": true, "reservation_deleted": true,
	"reservation_updated": true, "restock": true, "safety_stock": true, "shrinkage": true}

// setQuantities applies inventorySetQuantities with 2026-04 rules: changeFromQuantity is
// mandatory on each quantity (explicit null opts out of the check), a stale value fails
// with CHANGE_FROM_QUANTITY_STALE, and any error leaves everything unchanged.
func (st *store) setQuantities(raw json.RawMessage, key string) (any, []map[string]any, []change) {
	var in struct {
		Name       string                       `json:"name"`
		Reason     string                       `json:"reason"`
		Quantities []map[string]json.RawMessage `json:"quantities"`
	}
	if json.Unmarshal(raw, &in) != nil {
		return nil, gqlErr("Variable $input of type InventorySetQuantitiesInput! was provided invalid value", "INVALID_VARIABLE"), nil
	}
	if len(in.Quantities) > 250 {
		return nil, gqlErr("The input array size of "+strconv.Itoa(len(in.Quantities))+" is greater than the maximum allowed of 250.", "MAX_INPUT_SIZE_EXCEEDED"), nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	if prev, ok := st.idem[key]; ok {
		return prev, nil, nil
	}
	var ues []userErr
	if in.Name != "available" && in.Name != "on_hand" {
		ues = append(ues, userErr{Field: []string{"input", "name"}, Message: "The quantity name must be available or on_hand.", Code: "INVALID_NAME"})
	}
	if !validReasons[in.Reason] {
		ues = append(ues, userErr{Field: []string{"input", "reason"}, Message: "The specified reason is invalid.", Code: "INVALID_REASON"})
	}
	type apply struct {
		item, variant string
		qty           int64
	}
	var todo []apply
	seen := map[string]bool{}
	for i, q := range in.Quantities {
		f := func(name string) []string { return []string{"input", "quantities", strconv.Itoa(i), name} }
		var item, loc string
		var qty int64
		_ = json.Unmarshal(q["inventoryItemId"], &item)
		_ = json.Unmarshal(q["locationId"], &loc)
		qErr := json.Unmarshal(q["quantity"], &qty)
		variant := st.items[item]
		cf, hasCF := q["changeFromQuantity"]
		switch {
		case variant == "":
			ues = append(ues, userErr{Field: f("inventoryItemId"), Message: "The specified inventory item could not be found.", Code: "INVALID_INVENTORY_ITEM"})
			continue
		case loc != Location:
			ues = append(ues, userErr{Field: f("locationId"), Message: "The specified location could not be found.", Code: "INVALID_LOCATION"})
			continue
		case seen[item]:
			ues = append(ues, userErr{Field: f("inventoryItemId"), Message: "The combination of inventoryItemId and locationId must be unique.", Code: "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"})
			continue
		case qErr != nil || qty < 0:
			ues = append(ues, userErr{Field: f("quantity"), Message: "The quantity can't be negative.", Code: "INVALID_QUANTITY_NEGATIVE"})
			continue
		case qty > 1_000_000_000:
			ues = append(ues, userErr{Field: f("quantity"), Message: "The quantity can't be higher than 1,000,000,000.", Code: "INVALID_QUANTITY_TOO_HIGH"})
			continue
		case !hasCF:
			ues = append(ues, userErr{Field: f("changeFromQuantity"), Message: "changeFromQuantity is required; pass null to skip the check.", Code: "CHANGE_FROM_QUANTITY_REQUIRED"})
			continue
		}
		seen[item] = true
		cur, stocked := st.levels[item][Location]
		if !stocked {
			ues = append(ues, userErr{Field: f("locationId"), Message: "The specified inventory item is not stocked at the location.", Code: "ITEM_NOT_STOCKED_AT_LOCATION"})
			continue
		}
		if cfv := bytes.TrimSpace(cf); string(cfv) != "null" {
			var from int64
			if json.Unmarshal(cfv, &from) != nil || from != cur {
				ues = append(ues, userErr{Field: f("changeFromQuantity"), Message: "The changeFromQuantity does not match the persisted value.", Code: "CHANGE_FROM_QUANTITY_STALE"})
				continue
			}
		}
		todo = append(todo, apply{item: item, variant: variant, qty: qty})
	}
	if len(ues) > 0 {
		out := map[string]any{"inventorySetQuantities": map[string]any{"inventoryAdjustmentGroup": nil, "userErrors": ues}}
		return out, nil, nil
	}
	var changes []change
	for _, a := range todo {
		if st.levels[a.item][Location] != a.qty {
			st.levels[a.item][Location] = a.qty
			changes = append(changes, change{product: st.variants[a.variant].ProductID, variant: a.variant, stock: a.qty})
		}
	}
	out := map[string]any{"inventorySetQuantities": map[string]any{
		"inventoryAdjustmentGroup": map[string]any{"id": "gid://shopify/InventoryAdjustmentGroup/" + st.newID()},
		"userErrors":               []userErr{}}}
	if len(st.idem) > 100000 {
		st.idem = map[string]any{}
	}
	st.idem[key] = out
	return out, nil, changes
}

// updateCatalog applies aliased productVariantsBulkUpdate (vN with pN) and productUpdate (uN).
func (st *store) updateCatalog(b gqlBody) (map[string]any, int) {
	st.data.Lock()
	defer st.data.Unlock()
	out := map[string]any{}
	n := 0
	for k, raw := range b.Variables {
		if len(k) < 2 || !isDigits(k[1:]) {
			continue
		}
		switch k[0] {
		case 'p':
			n++
			var pid string
			_ = json.Unmarshal(raw, &pid)
			var vs []map[string]json.RawMessage
			_ = json.Unmarshal(b.Variables["v"+k[1:]], &vs)
			out["v"+k[1:]] = st.bulkUpdate(pid, vs, strings.Contains(b.Query, "allowPartialUpdates: true"))
		case 'u':
			n++
			out[k] = st.productUpdate(raw)
		}
	}
	return out, n
}

func (st *store) bulkUpdate(pid string, vs []map[string]json.RawMessage, partial bool) map[string]any {
	p := st.products[pid]
	if p == nil {
		return map[string]any{"productVariants": nil, "userErrors": []userErr{{Field: []string{"productId"}, Message: "Product does not exist", Code: "PRODUCT_DOES_NOT_EXIST"}}}
	}
	if len(vs) > 250 {
		return map[string]any{"productVariants": nil, "userErrors": []userErr{{Field: []string{"variants"}, Message: "Too many variants", Code: "MAX_INPUT_SIZE_EXCEEDED"}}}
	}
	var ues []userErr
	type upd struct {
		v    *Variant
		next Variant
	}
	var ok []upd
	for i, in := range vs {
		f := func(name string) []string { return []string{"variants", strconv.Itoa(i), name} }
		var id string
		_ = json.Unmarshal(in["id"], &id)
		v := st.variants[id]
		if v == nil || v.ProductID != pid {
			ues = append(ues, userErr{Field: f("id"), Message: "Product variant does not exist", Code: "PRODUCT_VARIANT_DOES_NOT_EXIST"})
			continue
		}
		next := *v
		bad := false
		if raw, has := in["price"]; has {
			d, set, valid := parseMoney(raw)
			if !valid || !set {
				ues = append(ues, userErr{Field: f("price"), Message: "Price must be a non-negative amount", Code: "INVALID"})
				bad = true
			}
			next.Price = d
		}
		if raw, has := in["compareAtPrice"]; has {
			d, set, valid := parseMoney(raw)
			switch {
			case !valid:
				ues = append(ues, userErr{Field: f("compareAtPrice"), Message: "Compare at price must be a non-negative amount", Code: "INVALID"})
				bad = true
			case set:
				next.CompareAtPrice = &d
			default:
				next.CompareAtPrice = nil
			}
		}
		if raw, has := in["barcode"]; has {
			_ = json.Unmarshal(raw, &next.Barcode)
		}
		if raw, has := in["inventoryItem"]; has {
			var item struct {
				Cost        json.RawMessage `json:"cost"`
				Measurement *struct {
					Weight struct {
						Value float64 `json:"value"`
					} `json:"weight"`
				} `json:"measurement"`
			}
			_ = json.Unmarshal(raw, &item)
			if item.Cost != nil {
				d, _, valid := parseMoney(item.Cost)
				if !valid {
					ues = append(ues, userErr{Field: []string{"variants", strconv.Itoa(i), "inventoryItem", "cost"}, Message: "Cost must be a non-negative amount", Code: "INVALID"})
					bad = true
				}
				next.Cost = d
			}
			if item.Measurement != nil {
				next.WeightGrams = item.Measurement.Weight.Value
			}
		}
		if !bad {
			ok = append(ok, upd{v: v, next: next})
		}
	}
	if len(ues) > 0 && !partial {
		return map[string]any{"productVariants": nil, "userErrors": ues}
	}
	var done []map[string]any
	for _, u := range ok {
		*u.v = u.next
		done = append(done, map[string]any{"id": u.v.ID})
	}
	if ues == nil {
		ues = []userErr{}
	}
	return map[string]any{"productVariants": done, "userErrors": ues}
}

func (st *store) productUpdate(raw json.RawMessage) map[string]any {
	var in struct {
		ID              string  `json:"id"`
		Title           *string `json:"title"`
		DescriptionHTML *string `json:"descriptionHtml"`
		Vendor          *string `json:"vendor"`
		ProductType     *string `json:"productType"`
		Status          *string `json:"status"`
	}
	_ = json.Unmarshal(raw, &in)
	p := st.products[in.ID]
	if p == nil {
		return map[string]any{"product": nil, "userErrors": []userErr{{Field: []string{"id"}, Message: "Product does not exist"}}}
	}
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		return map[string]any{"product": nil, "userErrors": []userErr{{Field: []string{"title"}, Message: "Title can't be blank"}}}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Title, in.Title)
	set(&p.DescriptionHTML, in.DescriptionHTML)
	set(&p.Vendor, in.Vendor)
	set(&p.ProductType, in.ProductType)
	set(&p.Status, in.Status)
	return map[string]any{"product": map[string]any{"id": p.ID}, "userErrors": []userErr{}}
}

// variantJSON renders a variant as the connector's queries select it. Caller holds data.
func (st *store) variantJSON(v *Variant, loc string, withLevel bool) map[string]any {
	item := map[string]any{"id": v.InventoryItemID}
	total := int64(0)
	for _, q := range st.levels[v.InventoryItemID] {
		total += q
	}
	if withLevel {
		if q, ok := st.levels[v.InventoryItemID][loc]; ok {
			item["inventoryLevel"] = map[string]any{"quantities": []map[string]any{{"name": "available", "quantity": q}}}
		} else {
			item["inventoryLevel"] = nil
		}
	}
	out := map[string]any{"id": v.ID, "sku": v.SKU, "barcode": v.Barcode, "title": v.Title, "price": v.Price.StringFixed(2),
		"inventoryQuantity": total, "inventoryItem": item, "selectedOptions": []map[string]any{{"name": "Title", "value": v.Title}}}
	if v.CompareAtPrice != nil {
		out["compareAtPrice"] = v.CompareAtPrice.StringFixed(2)
	}
	if p := st.products[v.ProductID]; p != nil {
		out["product"] = map[string]any{"id": p.ID, "title": p.Title, "descriptionHtml": p.DescriptionHTML,
			"productType": p.ProductType, "vendor": p.Vendor, "featuredMedia": nil}
	}
	return out
}

func (st *store) readVariants(b gqlBody) (any, float64, []map[string]any, []change) {
	var ids []string
	if json.Unmarshal(b.Variables["ids"], &ids) != nil {
		return nil, 0, gqlErr("Variable $ids of type [ID!]! was provided invalid value", "INVALID_VARIABLE"), nil
	}
	if len(ids) > 250 {
		return nil, 0, gqlErr("The input array size is greater than the maximum allowed of 250.", "MAX_INPUT_SIZE_EXCEEDED"), nil
	}
	var loc string
	_, withLevel := b.Variables["loc"]
	_ = json.Unmarshal(b.Variables["loc"], &loc)
	st.data.Lock()
	defer st.data.Unlock()
	nodes := make([]any, len(ids))
	found := 0
	for i, id := range ids {
		if v := st.variants[id]; v != nil {
			nodes[i] = st.variantJSON(v, loc, withLevel)
			found++
		}
	}
	return map[string]any{"nodes": nodes}, float64(2 + 3*found), nil, nil
}

func (st *store) catalog(b gqlBody) (any, float64, []map[string]any, []change) {
	var first int
	var after, loc string
	_ = json.Unmarshal(b.Variables["first"], &first)
	_ = json.Unmarshal(b.Variables["after"], &after)
	_, withLevel := b.Variables["loc"]
	_ = json.Unmarshal(b.Variables["loc"], &loc)
	if first <= 0 || first > 250 {
		return nil, 0, gqlErr("first must be between 1 and 250", "BAD_REQUEST"), nil
	}
	var from int64
	if after != "" {
		raw, err := base64.StdEncoding.DecodeString(after)
		n, err2 := strconv.ParseInt(strings.TrimPrefix(string(raw), "variant:"), 10, 64)
		if err != nil || err2 != nil {
			return nil, 0, gqlErr("Invalid cursor", "BAD_REQUEST"), nil
		}
		from = n
	}
	st.data.Lock()
	defer st.data.Unlock()
	var nodes []any
	var last int64
	more := false
	for _, id := range st.sortedVariants() {
		n := gidNum(id)
		if n <= from {
			continue
		}
		if len(nodes) == first {
			more = true
			break
		}
		nodes = append(nodes, st.variantJSON(st.variants[id], loc, withLevel))
		last = n
	}
	end := any(nil)
	if len(nodes) > 0 {
		end = base64.StdEncoding.EncodeToString([]byte("variant:" + strconv.FormatInt(last, 10)))
	}
	if nodes == nil {
		nodes = []any{}
	}
	return map[string]any{"productVariants": map[string]any{
		"pageInfo": map[string]any{"hasNextPage": more, "endCursor": end}, "nodes": nodes}}, float64(3 + 4*len(nodes)), nil, nil
}

// orderMutation applies the order write-backs.
func (st *store) orderMutation(b gqlBody, now time.Time) any {
	st.data.Lock()
	defer st.data.Unlock()
	ue := func(field, msg string, code string) []userErr {
		return []userErr{{Field: []string{field}, Message: msg, Code: code}}
	}
	idOf := func(raw json.RawMessage) string {
		var in struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &in) != nil || in.ID == "" {
			_ = json.Unmarshal(raw, &in.ID)
		}
		return in.ID
	}
	switch b.OperationName {
	case "CancelOrder":
		id := idOf(b.Variables["id"])
		o := st.orders[id]
		switch {
		case o == nil:
			return map[string]any{"orderCancel": map[string]any{"job": nil, "orderCancelUserErrors": ue("orderId", "Order does not exist", "NOT_FOUND")}}
		case o["cancelledAt"] != nil:
			return map[string]any{"orderCancel": map[string]any{"job": nil, "orderCancelUserErrors": ue("orderId", "Order has already been cancelled", "INVALID")}}
		}
		if _, ok := b.Variables["refund"]; !ok {
			return map[string]any{"orderCancel": map[string]any{"job": nil, "orderCancelUserErrors": ue("refundMethod", "refundMethod is required", "INVALID")}}
		}
		o["cancelledAt"] = now.UTC().Format(time.RFC3339)
		for _, fo := range st.fos[id] {
			if fo.Status == "OPEN" {
				fo.Status = "CLOSED"
			}
		}
		return map[string]any{"orderCancel": map[string]any{"job": map[string]any{"id": "gid://shopify/Job/" + st.newID()}, "orderCancelUserErrors": []userErr{}}}
	case "MarkPaid", "CloseOrder":
		field := map[string]string{"MarkPaid": "orderMarkAsPaid", "CloseOrder": "orderClose"}[b.OperationName]
		id := idOf(b.Variables["input"])
		o := st.orders[id]
		if o == nil {
			return map[string]any{field: map[string]any{"order": nil, "userErrors": ue("id", "Order does not exist", "")}}
		}
		if b.OperationName == "MarkPaid" {
			if o["displayFinancialStatus"] == "PAID" {
				return map[string]any{field: map[string]any{"order": nil, "userErrors": ue("id", "Order cannot be marked as paid.", "")}}
			}
			o["displayFinancialStatus"] = "PAID"
		} else {
			o["closed"] = true
		}
		return map[string]any{field: map[string]any{"order": map[string]any{"id": id}, "userErrors": []userErr{}}}
	case "SetInvoice":
		var in struct {
			ID         string `json:"id"`
			Metafields []struct {
				Namespace, Key, Type, Value string
			} `json:"metafields"`
		}
		_ = json.Unmarshal(b.Variables["input"], &in)
		if st.orders[in.ID] == nil {
			return map[string]any{"orderUpdate": map[string]any{"order": nil, "userErrors": ue("id", "Order does not exist", "")}}
		}
		if st.notes[in.ID] == nil {
			st.notes[in.ID] = map[string]string{}
		}
		for _, m := range in.Metafields {
			st.notes[in.ID][m.Namespace+"."+m.Key] = m.Value
		}
		return map[string]any{"orderUpdate": map[string]any{"order": map[string]any{"id": in.ID}, "userErrors": []userErr{}}}
	case "CreateFulfillment":
		var in struct {
			Line []struct {
				FulfillmentOrderID string `json:"fulfillmentOrderId"`
			} `json:"lineItemsByFulfillmentOrder"`
			TrackingInfo map[string]any `json:"trackingInfo"`
		}
		_ = json.Unmarshal(b.Variables["fulfillment"], &in)
		var hit []*fulfillmentOrder
		var orderID string
		for _, l := range in.Line {
			for oid, fos := range st.fos {
				for _, fo := range fos {
					if fo.ID == l.FulfillmentOrderID {
						hit, orderID = append(hit, fo), oid
					}
				}
			}
		}
		if len(hit) == 0 || len(hit) != len(in.Line) {
			return map[string]any{"fulfillmentCreate": map[string]any{"fulfillment": nil, "userErrors": ue("fulfillment", "Fulfillment order does not exist.", "")}}
		}
		for _, fo := range hit {
			if fo.Status != "OPEN" && fo.Status != "IN_PROGRESS" {
				return map[string]any{"fulfillmentCreate": map[string]any{"fulfillment": nil, "userErrors": ue("fulfillment", "Fulfillment order is not open.", "")}}
			}
		}
		for _, fo := range hit {
			fo.Status, fo.Tracking = "CLOSED", in.TrackingInfo
			if fo.Tracking == nil {
				fo.Tracking = map[string]any{}
			}
		}
		st.orders[orderID]["displayFulfillmentStatus"] = "FULFILLED"
		return map[string]any{"fulfillmentCreate": map[string]any{"fulfillment": map[string]any{"id": "gid://shopify/Fulfillment/" + st.newID(), "status": "SUCCESS"}, "userErrors": []userErr{}}}
	}
	return nil
}

// idempotencyKey reads @idempotent(key: "...") (a literal) or @idempotent(key: $var).
func idempotencyKey(b gqlBody) string {
	_, rest, ok := strings.Cut(b.Query, "@idempotent(")
	if !ok {
		return ""
	}
	arg, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	_, v, ok := strings.Cut(arg, "key:")
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	if name, isVar := strings.CutPrefix(v, "$"); isVar {
		var key string
		_ = json.Unmarshal(b.Variables[name], &key)
		return key
	}
	if key, err := strconv.Unquote(v); err == nil {
		return key
	}
	return ""
}

// pageLines serves an order's line items 100 at a time (cursor "line:<offset>").
func pageLines(o map[string]any, afterRaw json.RawMessage) map[string]any {
	return pageLinesN(o, afterRaw, 100)
}

// pageLinesN serves an order's line items n at a time.
func pageLinesN(o map[string]any, afterRaw json.RawMessage, n int) map[string]any {
	li, _ := o["lineItems"].(map[string]any)
	nodes, _ := li["nodes"].([]any)
	var after string
	_ = json.Unmarshal(afterRaw, &after)
	from := 0
	if k, err := strconv.Atoi(strings.TrimPrefix(after, "line:")); err == nil && k > 0 {
		from = k
	}
	if len(nodes) <= n && from == 0 {
		return o
	}
	from = min(from, len(nodes))
	end := min(from+n, len(nodes))
	out := make(map[string]any, len(o))
	for k, v := range o {
		out[k] = v
	}
	out["lineItems"] = map[string]any{"nodes": nodes[from:end],
		"pageInfo": map[string]any{"hasNextPage": end < len(nodes), "endCursor": "line:" + strconv.Itoa(end)}}
	return out
}
