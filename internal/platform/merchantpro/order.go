package merchantpro

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// FetchOrder reads GET /orders/{id} and normalises it.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	const op = "fetch_order"
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	if !validID(platformOrderID) {
		return domain.Order{}, permanent(op, "invalid MerchantPro order id %q", platformOrderID)
	}
	r := request{op: op, method: http.MethodGet, path: "/orders/" + platformOrderID,
		notFound: fmt.Sprintf("order %s not found on MerchantPro", platformOrderID)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return domain.Order{}, err
	}
	raw, ok := unwrap(resp.body)
	if !ok {
		return domain.Order{}, transient(op, "GET %s: body is not a JSON object (%s)", r.path, snippet(resp.body, creds{}))
	}
	o, err := NormalizeOrder(raw, s.currency, c.loc)
	if err != nil {
		return domain.Order{}, permanent(op, "order %s: %v", platformOrderID, err)
	}
	if o.PlatformID != platformOrderID {
		return domain.Order{}, transient(op, "GET %s answered order %s", r.path, o.PlatformID)
	}
	o.Tenant, o.ConnectionID = conn.Tenant, conn.ID
	o.Customer.Tenant = conn.Tenant
	return o, nil
}

// PollOrders pages through GET /orders?start=&limit= (oldest first) from the cursor, an
// offset: the hub's fallback for shops whose webhooks are not set up, and the "orders
// pulled at a set interval" of seed 004. Next is where the next poll starts; More says
// another page is ready now. Orders updated after they were read are reported by webhook.
// The list takes no date filter (the API documents only start and limit), so a new
// connection's first polls page through the shop's history once, importing nothing
// created before orders_since (default: the connection's creation); the offset cursor
// then stays past it.
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursor string) (platform.OrderPage, error) {
	const op = "poll_orders"
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	start := s.ordersFrom
	if cursor != "" {
		if start, err = parseCursor(op, cursor); err != nil {
			return platform.OrderPage{}, err
		}
	}
	r := request{op: op, method: http.MethodGet, path: "/orders", query: url.Values{
		"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(s.pageSize)}}}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return platform.OrderPage{}, err
	}
	var l listJSON
	var items []json.RawMessage
	if json.Unmarshal(resp.body, &l) != nil || json.Unmarshal(l.Data, &items) != nil {
		return platform.OrderPage{}, transient(op, "GET /orders: unexpected body (%s)", snippet(resp.body, creds{}))
	}
	page := platform.OrderPage{Next: strconv.Itoa(start + len(items))}
	for _, raw := range items {
		if placed, ok := listedCreation(raw, c.loc); ok && placed.Before(s.ordersSince) {
			continue // history from before the connection: skipped without a fetch
		}
		o, err := NormalizeOrder(raw, s.currency, c.loc)
		if err != nil {
			// A list entry may be a summary: read the full order.
			var head struct {
				ID flexID `json:"id"`
			}
			if json.Unmarshal(raw, &head) != nil || !validID(string(head.ID)) {
				return platform.OrderPage{}, permanent(op, "order list entry without a valid id: %v", err)
			}
			if o, err = c.FetchOrder(ctx, conn, string(head.ID)); err != nil {
				return platform.OrderPage{}, err
			}
		}
		if o.PlacedAt.Before(s.ordersSince) {
			continue
		}
		o.Tenant, o.ConnectionID, o.Customer.Tenant = conn.Tenant, conn.ID, conn.Tenant
		page.Orders = append(page.Orders, o)
	}
	_, page.More, _ = l.nextStart(start, len(items))
	return page, nil
}

// listedCreation reads a list entry's creation date when it carries one, so history can
// be skipped without fetching each full order.
func listedCreation(raw []byte, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = bucharest()
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return time.Time{}, false
	}
	t, err := orderTime(obj(m), loc, placedAtKeys...)
	return t, err == nil && !t.IsZero()
}

// obj is a decoded JSON object with lenient accessors: MerchantPro's order fields are
// read under their documented-looking names first, then common alternatives.
type obj map[string]any

func (o obj) child(keys ...string) obj {
	for _, k := range keys {
		if m, ok := o[k].(map[string]any); ok {
			return obj(m)
		}
	}
	return nil
}

func (o obj) str(keys ...string) string {
	for _, k := range keys {
		switch v := o[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case json.Number:
			return v.String()
		}
	}
	return ""
}

// amount reads a decimal under the first present key; errors name the field.
func (o obj) amount(where string, keys ...string) (decimal.Decimal, bool, error) {
	for _, k := range keys {
		v, ok := o[k]
		if !ok || v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = strings.TrimSpace(x)
			if s == "" {
				continue
			}
		default:
			return decimal.Decimal{}, false, fmt.Errorf("field %s%s is not a number", where, k)
		}
		d, err := decimal.NewFromString(s)
		if err != nil || d.Abs().GreaterThan(decimal.NewFromInt(1e12)) {
			return decimal.Decimal{}, false, fmt.Errorf("field %s%s is not a valid amount", where, k)
		}
		return d, true, nil
	}
	return decimal.Decimal{}, false, nil
}

const maxOrderLines = 2000

// NormalizeOrder turns a MerchantPro order (GET /orders/{id}) into a domain.Order.
// Amounts are what the buyer pays (VAT included: the *_gross fields when present).
// Dates with an offset are taken as given; dates without one are Bucharest time.
// Errors name the offending field; malformed input never panics.
func NormalizeOrder(raw []byte, currency string, loc *time.Location) (domain.Order, error) {
	if loc == nil {
		loc = bucharest()
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return domain.Order{}, fmt.Errorf("order is not a JSON object")
	}
	o := obj(m)
	var out domain.Order
	out.PlatformID = o.str("id")
	if !validID(out.PlatformID) {
		return domain.Order{}, fmt.Errorf("field id is missing or not a positive integer")
	}
	out.Number = o.str("number", "order_number", "code")
	if out.Number == "" {
		out.Number = out.PlatformID
	}
	out.PlatformStatus = o.str("status", "status_code", "order_status")
	if out.PlatformStatus == "" {
		return domain.Order{}, fmt.Errorf("field status is missing")
	}
	if c := strings.ToUpper(o.str("currency", "currency_code")); c != "" {
		currency = c
	}
	if currency == "" {
		currency = DefaultCurrency
	}
	var err error
	if out.PlacedAt, err = orderTime(o, loc, placedAtKeys...); err != nil {
		return domain.Order{}, err
	}
	if out.PlacedAt.IsZero() {
		return domain.Order{}, fmt.Errorf("field date_created is missing")
	}
	if out.UpdatedAt, err = orderTime(o, loc, "date_modified", "updated_at", "date_updated"); err != nil {
		return domain.Order{}, err
	}
	if out.UpdatedAt.IsZero() {
		out.UpdatedAt = out.PlacedAt
	}

	billing := o.child("billing_address", "billing", "invoice_address")
	shipping := o.child("shipping_address", "shipping", "delivery_address")
	cust := o.child("customer")
	if cust == nil {
		cust = obj{}
	}
	out.Billing = address(billing)
	out.Shipping = address(shipping)
	if out.Shipping == nil {
		out.Shipping = out.Billing
	}
	out.Customer = customer(o, cust, billing)
	if out.Customer.Name == "" && out.Customer.CompanyName == "" && out.Customer.Email == "" {
		return domain.Order{}, fmt.Errorf("field billing_address is missing: the order names no customer")
	}
	out.Customer.Address = out.Billing

	money := func(d decimal.Decimal) domain.Money { return domain.Money{Amount: d, Currency: currency} }
	var ok bool
	var d decimal.Decimal
	if d, _, err = o.amount("", "discount_amount_gross", "discount_gross", "discount_amount", "discount_total", "discount"); err != nil {
		return domain.Order{}, err
	}
	out.Discount = money(d.Abs())
	if d, _, err = o.amount("", "shipping_amount_gross", "shipping_gross", "shipping_amount", "shipping_cost", "shipping_total"); err != nil {
		return domain.Order{}, err
	}
	out.ShippingCost = money(d)
	if d, ok, err = o.amount("", "total_amount_gross", "total_gross", "total_amount", "total"); err != nil {
		return domain.Order{}, err
	}
	if !ok {
		return domain.Order{}, fmt.Errorf("field total_amount_gross is missing")
	}
	out.Total = money(d)

	out.PaymentMethod = nameOf(o, "payment_method_name", "payment_method", "payment")
	out.ShippingMethod = nameOf(o, "shipping_method_name", "shipping_method", "shipping_name")

	lines, err := linesOf(o, money)
	if err != nil {
		return domain.Order{}, err
	}
	out.Lines = lines
	return out, nil
}

// nameOf reads a method name given as a string or as an object with a name.
func nameOf(o obj, keys ...string) string {
	if s := o.str(keys...); s != "" {
		return s
	}
	if c := o.child(keys...); c != nil {
		return c.str("name", "title", "code")
	}
	return ""
}

func linesOf(o obj, money func(decimal.Decimal) domain.Money) ([]domain.OrderLine, error) {
	var raw []any
	key := ""
	for _, k := range []string{"lines", "products", "items", "order_lines"} {
		if l, ok := o[k].([]any); ok {
			raw, key = l, k
			break
		}
	}
	if key == "" {
		return nil, fmt.Errorf("field lines is missing")
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("field lines is empty")
	}
	if len(raw) > maxOrderLines {
		return nil, fmt.Errorf("field lines has %d entries, more than %d", len(raw), maxOrderLines)
	}
	out := make([]domain.OrderLine, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("field %s[%d] is not an object", key, i)
		}
		l := obj(m)
		where := fmt.Sprintf("%s[%d].", key, i)
		var line domain.OrderLine
		line.SKU = l.str("sku", "product_sku", "code")
		line.EAN = l.str("ean", "barcode")
		line.ProductID = l.str("product_id")
		line.VariantID = l.str("variant_id")
		if line.VariantID == "0" {
			line.VariantID = ""
		}
		line.Name = l.str("name", "product_name", "title")
		q, ok, err := l.amount(where, "quantity", "qty")
		if err != nil {
			return nil, err
		}
		if !ok || !q.IsInteger() || !q.IsPositive() || q.GreaterThan(decimal.NewFromInt(1e9)) {
			return nil, fmt.Errorf("field %squantity must be a positive whole number", where)
		}
		line.Quantity = q.IntPart()
		price, ok, err := l.amount(where, "unit_price_gross", "price_gross", "unit_price", "price")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("field %sunit_price_gross is missing", where)
		}
		if price.IsNegative() {
			return nil, fmt.Errorf("field %sunit_price_gross is negative", where)
		}
		line.UnitPrice = money(price)
		disc, _, err := l.amount(where, "discount_gross", "discount_amount", "discount")
		if err != nil {
			return nil, err
		}
		line.Discount = money(disc.Abs())
		if line.SKU == "" && line.ProductID == "" {
			return nil, fmt.Errorf("field %ssku is missing (and no product_id)", where)
		}
		out = append(out, line)
	}
	return out, nil
}

func address(a obj) *domain.Address {
	if a == nil {
		return nil
	}
	name := strings.TrimSpace(a.str("first_name", "firstname") + " " + a.str("last_name", "lastname"))
	if name == "" {
		name = a.str("name", "full_name", "contact_name")
	}
	out := &domain.Address{
		Name:       name,
		Street:     a.str("address", "street", "address1", "address_line_1"),
		Number:     a.str("street_number", "number"),
		Complement: a.str("address2", "address_line_2", "details"),
		City:       a.str("city", "locality"),
		State:      a.str("county", "state", "region"),
		PostalCode: a.str("postal_code", "zip", "zip_code", "postcode"),
		Country:    strings.ToUpper(a.str("country_code", "country")),
		Phone:      a.str("phone", "telephone", "mobile"),
	}
	if *out == (domain.Address{}) {
		return nil
	}
	return out
}

func customer(o, cust, billing obj) domain.Customer {
	if billing == nil {
		billing = obj{}
	}
	c := domain.Customer{
		ExternalID:  cmp.Or(o.str("customer_id"), cust.str("id")),
		CompanyName: cmp.Or(billing.str("company", "company_name"), cust.str("company", "company_name")),
		Document: cmp.Or(billing.str("tax_code", "fiscal_code", "cui", "vat_code", "cnp"),
			cust.str("tax_code", "fiscal_code", "cui", "cnp")),
		Email: cmp.Or(o.str("email", "customer_email"), cust.str("email"), billing.str("email")),
	}
	c.Name = cmp.Or(strings.TrimSpace(cust.str("first_name", "firstname")+" "+cust.str("last_name", "lastname")),
		cust.str("name"), strings.TrimSpace(billing.str("first_name", "firstname")+" "+billing.str("last_name", "lastname")),
		billing.str("name", "full_name"), o.str("customer_name"))
	if c.Name == "" {
		c.Name = c.CompanyName
	}
	if c.CompanyName != "" {
		c.TradeName = cmp.Or(billing.str("trade_name"), cust.str("trade_name"))
	}
	seen := map[string]bool{}
	// The shipping address's phone is the recipient's, not the customer's.
	for _, p := range []string{o.str("phone", "customer_phone"), cust.str("phone"), billing.str("phone", "telephone")} {
		if p != "" && !seen[p] {
			seen[p] = true
			c.Phones = append(c.Phones, p)
		}
	}
	return c
}

// placedAtKeys name an order's creation date, documented-looking name first.
var placedAtKeys = []string{"date_created", "created_at", "date"}

// orderTime reads a date as RFC 3339 or "2006-01-02 15:04:05" (Bucharest time), in UTC.
func orderTime(o obj, loc *time.Location, keys ...string) (time.Time, error) {
	for _, k := range keys {
		s := o.str(k)
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC(), nil
		}
		for _, layout := range []string{time.DateTime, "2006-01-02T15:04:05", time.DateOnly} {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("field %s is not a date (%q)", k, truncate(s, 40))
	}
	return time.Time{}, nil
}
