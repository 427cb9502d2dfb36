package merchantprosim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

var _ platformsim.OrderPlacer = (*Kit)(nil)

// PlaceOrder stores the order as GET /orders/{id} returns it, takes its lines from stock
// and returns the order.created (order.updated for a known id) notification: a small JSON
// body naming the order, signed with X-Webhook-Signature (base64 HMAC-SHA256 under the
// store's webhook_secret). The hub fetches the order. Status is one of OrderStatuses
// ("new" by default).
func (k *Kit) PlaceOrder(storeID string, o platformsim.SimOrder) (string, platformsim.Delivery, error) {
	st := k.Server.store(storeID)
	if st == nil {
		return "", platformsim.Delivery{}, fmt.Errorf("merchantprosim: no store %q", storeID)
	}
	o, err := o.Normalise(k.Server.opts.Now(), "new", true)
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("merchantprosim: %w", err)
	}
	id, delta, existed := k.orders.Place(storeID, o, 20400)
	num, _ := strconv.ParseInt(id, 10, 64)
	st.data.Lock()
	created := o.UpdatedAt
	if prev := st.orders[num]; prev != nil {
		if t, err := time.Parse(time.RFC3339, fmt.Sprint(prev["date_created"])); err == nil {
			created = t
		}
	}
	st.data.Unlock()
	doc, err := json.Marshal(apiOrder(num, created, o))
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("merchantprosim: order %s: %w", id, err)
	}
	if err := k.Server.AddOrder(storeID, doc); err != nil {
		return "", platformsim.Delivery{}, err
	}
	k.takeStock(st, delta)
	event := "order.created"
	if existed {
		event = "order.updated"
	}
	eventID := fmt.Sprintf("evt-%s-%d", id, o.UpdatedAt.UnixNano())
	body, err := json.Marshal(map[string]any{"event": event, "event_id": eventID,
		"created_at": o.UpdatedAt.Format(time.RFC3339), "data": map[string]any{"id": num}})
	if err != nil {
		return "", platformsim.Delivery{}, fmt.Errorf("merchantprosim: delivery for order %s: %w", id, err)
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret(storeID)))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	h.Set("X-Webhook-Event", event)
	h.Set("X-Webhook-Id", eventID)
	return id, platformsim.Delivery{Header: h, Query: url.Values{}, Body: body}, nil
}

// OrderStatus is the order's status code now.
func (k *Kit) OrderStatus(storeID, id string) (string, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return "", false
	}
	o, ok := k.Server.Order(storeID, n)
	if !ok {
		return "", false
	}
	return fmt.Sprint(o["status"]), true
}

// takeStock applies a sale's stock change to products or their variants.
func (k *Kit) takeStock(st *store, delta map[platformsim.Product]int64) {
	now := k.Server.opts.Now()
	for p, d := range delta {
		pid, _ := strconv.ParseInt(p.ProductID, 10, 64)
		vid, _ := strconv.ParseInt(p.VariantID, 10, 64)
		st.data.Lock()
		var level *int64
		if pr := st.products[pid]; pr != nil && vid == 0 {
			level = &pr.Stock
		} else if pr != nil {
			for _, v := range pr.Variants {
				if v.ID == vid {
					level = &v.Stock
				}
			}
		}
		var n int64
		if level != nil {
			*level += d
			n = *level
		}
		st.data.Unlock()
		if level != nil {
			k.NotifyStock(st.id, p.ProductID, p.VariantID, n, now)
		}
	}
}

// apiOrder is the GET /orders/{id} body for o.
func apiOrder(id int64, created time.Time, o platformsim.SimOrder) map[string]any {
	c := o.Customer
	first, last, _ := strings.Cut(c.Name, " ")
	addr := map[string]any{"first_name": first, "last_name": last, "address": c.Street, "street_number": c.Number,
		"city": c.City, "county": c.State, "country_code": "BR", "postal_code": c.PostalCode, "phone": c.Phone}
	total := decimal.Zero
	var lines []any
	for _, l := range o.Lines {
		total = total.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
		line := map[string]any{"product_id": numID(l.Product.ProductID), "sku": l.SKU, "name": "Product " + l.SKU,
			"quantity": l.Quantity, "unit_price_gross": l.UnitPrice.StringFixed(2)}
		if l.Product.VariantID != "" {
			line["variant_id"] = numID(l.Product.VariantID)
		}
		lines = append(lines, line)
	}
	return map[string]any{
		"id": id, "date_created": created.UTC().Format(time.RFC3339), "date_modified": o.UpdatedAt.Format(time.RFC3339),
		"status": o.Status, "payment_status": "paid", "currency": "BRL", "email": c.Email, "phone": c.Phone,
		"customer": map[string]any{"id": 9000 + id, "first_name": first, "last_name": last, "email": c.Email,
			"phone": c.Phone, "cnp": c.Document},
		"billing_address": addr, "shipping_address": addr,
		"payment_method_name": "Card online", "shipping_method_name": "Curier",
		"lines": lines, "shipping_amount_gross": "0.00", "total_amount_gross": total.StringFixed(2),
	}
}

func numID(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
