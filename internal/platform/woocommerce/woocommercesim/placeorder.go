package woocommercesim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// wcStamp is the REST API's date format (no zone; the _gmt fields are UTC).
const wcStamp = "2006-01-02T15:04:05"

// PlaceOrder stores the order as REST v3 returns it, takes its lines from stock (items that
// manage stock) and returns the order.created (order.updated for a known id) delivery:
// the full order signed with X-WC-Webhook-Signature under the store's webhook_secret.
// Status is a status slug ("processing" by default).
func (k *Kit) PlaceOrder(storeID string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("woocommercesim: no store %q", storeID)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "processing", true)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("woocommercesim: %w", err)
	}
	id, delta, existed := k.orders.Place(storeID, o, 5100)
	num, _ := strconv.ParseInt(id, 10, 64)
	doc := restOrder(num, o)
	st.data.Lock()
	if prev := st.orders[num]; prev != nil {
		doc["date_created"], doc["date_created_gmt"] = prev["date_created"], prev["date_created_gmt"]
	}
	body, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(body, &doc) // store what AddOrder would: float64 numbers
	}
	if err != nil {
		st.data.Unlock()
		return "", platformsim.Delivery{}, fmt.Errorf("woocommercesim: order %s: %w", id, err)
	}
	st.orders[num] = doc
	delete(st.raw, num)
	now := k.Server.opts.Now()
	type level struct {
		p platformsim.Product
		n int64
	}
	var levels []level
	for p, d := range delta {
		if it := st.items[itemID(p)]; it != nil && it.ManageStock {
			it.Stock += d
			levels = append(levels, level{p, it.Stock})
		}
	}
	st.data.Unlock()
	for _, l := range levels {
		k.NotifyStock(storeID, l.p.ProductID, l.p.VariantID, l.n, now)
	}
	event := "created"
	if existed {
		event = "updated"
	}
	return id, k.SignedDelivery(storeID, "order."+event, body), nil
}

// DeliverOrder stores a REST v3 order body as given (see Server.AddOrder) and returns
// the order.<event> delivery carrying those same bytes, signed as WooCommerce signs
// them: for replaying captured or published payloads through the hub verbatim.
func (k *Kit) DeliverOrder(storeID, event string, body []byte) (platformsim.Delivery, error) {
	if _, err := k.Server.addOrder(storeID, body); err != nil {
		return platformsim.Delivery{}, fmt.Errorf("woocommercesim: %w", err)
	}
	return k.SignedDelivery(storeID, "order."+event, body), nil
}

// SignedDelivery is the webhook delivery WooCommerce core would send for body under
// topic ("order.updated"): its headers and X-WC-Webhook-Signature = base64(HMAC-SHA256)
// under the store's webhook_secret. The body goes out as given, stored or not and
// parseable or not (a signed body the hub cannot read is a case worth testing).
func (k *Kit) SignedDelivery(storeID, topic string, body []byte) platformsim.Delivery {
	resource, event, _ := strings.Cut(topic, ".")
	mac := hmac.New(sha256.New, []byte(webhookSecret(storeID)))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-WC-Webhook-Source", "https://"+storeID+".example/")
	h.Set("X-WC-Webhook-Topic", topic)
	h.Set("X-WC-Webhook-Resource", resource)
	h.Set("X-WC-Webhook-Event", event)
	h.Set("X-WC-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	h.Set("X-WC-Webhook-ID", "1")
	h.Set("X-WC-Webhook-Delivery-ID", strconv.FormatInt(k.deliveries.Add(1), 10))
	return platformsim.Delivery{Header: h, Query: url.Values{}, Body: bytes.Clone(body)}
}

// OrderStatus is the order's status slug now.
func (k *Kit) OrderStatus(storeID, id string) (string, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return "", false
	}
	o, ok := k.Server.Order(storeID, n)
	if !ok {
		return "", false
	}
	s, _ := o["status"].(string)
	return s, true
}

// itemID is the catalogue item a sale takes stock from: the variation when there is one.
func itemID(p platformsim.Product) int64 {
	s := p.ProductID
	if p.VariantID != "" {
		s = p.VariantID
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// restOrder is the REST v3 order for o.
func restOrder(id int64, o platformsim.SimOrder) map[string]any {
	c := o.Customer
	first, last, _ := strings.Cut(c.Name, " ")
	addr := func(billing bool) map[string]any {
		a := map[string]any{"first_name": first, "last_name": last, "company": "", "address_1": c.Street,
			"address_2": "", "city": c.City, "state": c.State, "postcode": c.PostalCode, "country": "BR",
			"phone": c.Phone, "number": c.Number, "neighborhood": ""}
		if billing {
			a["email"], a["cpf"], a["persontype"], a["cellphone"] = c.Email, c.Document, "F", c.Phone
		}
		return a
	}
	total := decimal.Zero
	var items []any
	for i, l := range o.Lines {
		sub := l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity))
		total = total.Add(sub)
		items = append(items, map[string]any{"id": 700 + i, "name": "Product " + l.SKU, "product_id": numID(l.Product.ProductID),
			"variation_id": numID(l.Product.VariantID), "quantity": l.Quantity, "tax_class": "",
			"subtotal": sub.StringFixed(2), "subtotal_tax": "0.00", "total": sub.StringFixed(2), "total_tax": "0.00",
			"taxes": []any{}, "meta_data": []any{}, "sku": l.SKU, "price": json.Number(l.UnitPrice.String())})
	}
	at := o.UpdatedAt.Format(wcStamp)
	return map[string]any{
		"id": id, "parent_id": 0, "number": strconv.FormatInt(id, 10), "status": o.Status, "currency": "BRL",
		"prices_include_tax": false, "date_created": at, "date_created_gmt": at, "date_modified": at,
		"date_modified_gmt": at, "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00",
		"shipping_tax": "0.00", "cart_tax": "0.00", "total": total.StringFixed(2), "total_tax": "0.00",
		"customer_id": 0, "billing": addr(true), "shipping": addr(false), "payment_method": "pix",
		"payment_method_title": "Pix", "created_via": "checkout", "meta_data": []any{}, "line_items": items,
		"shipping_lines": []any{map[string]any{"id": 900, "method_title": "PAC", "method_id": "flat_rate", "total": "0.00"}},
		"fee_lines":      []any{}, "coupon_lines": []any{},
	}
}

// numID writes an id as the number the API uses (0 for none).
func numID(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
