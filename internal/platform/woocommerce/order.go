package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// FetchOrder reads GET orders/{id} and normalises it.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	id, ok := parseID(platformOrderID)
	if !ok {
		return domain.Order{}, permanent("fetch_order", "invalid WooCommerce order id %q", truncate(platformOrderID, 40))
	}
	r := request{op: "fetch_order", method: http.MethodGet, path: "/orders/" + strconv.FormatInt(id, 10),
		notFound: fmt.Sprintf("order %d not found on WooCommerce", id)}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return domain.Order{}, err
	}
	o, err := NormaliseOrder(resp.body, conn)
	if err != nil {
		var nj *notOrderError
		if errors.As(err, &nj) {
			return domain.Order{}, transient("fetch_order", "GET %s: %v", r.path, err)
		}
		return domain.Order{}, permanent("fetch_order", "order %d: %v", id, err)
	}
	return o, nil
}

// DefaultOrderPollInterval is 0: WooCommerce delivers webhooks once, without retries,
// and disables a hook after a few failures, so polling is its main safety net and runs
// every scheduler tick, not at the slower pace of platforms that retry.
func (c *Connector) DefaultOrderPollInterval() time.Duration { return 0 }

// PollOrders lists orders modified since the cursor, oldest first, page_size at a
// time. WooCommerce delivers webhooks once, without retries, so polling is what makes
// order intake complete. The cursor is "<modified_after RFC 3339>|<page>"; "" starts at
// the orders_since setting, else at the connection's creation: a new connection must
// not import the store's whole history. Each finished pass restarts one second before
// the newest modification seen, so orders changed within that second are never missed
// (the hub de-duplicates the repeats).
func (c *Connector) PollOrders(ctx context.Context, conn domain.Connection, cursor string) (platform.OrderPage, error) {
	s, err := c.settings(conn)
	if err != nil {
		return platform.OrderPage{}, err
	}
	after, page := s.ordersSince, 1
	if after.IsZero() && !conn.CreatedAt.IsZero() {
		// modified_after is exclusive and whole seconds: a sale in the connection's first
		// second must still be listed (a repeat is de-duplicated by the hub).
		after = conn.CreatedAt.UTC().Truncate(time.Second).Add(-time.Second)
	}
	if after.IsZero() {
		// A connection without a creation time (built by hand, not by the store) starts
		// now rather than at the beginning of time; the cursor returned keeps that start.
		after = c.opts.Now().UTC()
	}
	after = after.Truncate(time.Second) // modified_after has whole seconds
	if cursor != "" {
		ts, p, ok := strings.Cut(cursor, "|")
		t, terr := time.Parse(time.RFC3339, ts)
		n, perr := strconv.Atoi(p)
		if !ok || terr != nil || perr != nil || n < 1 {
			return platform.OrderPage{}, permanent("poll_orders", "invalid order cursor %q", truncate(cursor, 60))
		}
		after, page = t.UTC(), n
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(s.pageSize)},
		"orderby": {"modified"}, "order": {"asc"}, "dates_are_gmt": {"true"}}
	q.Set("modified_after", after.Format("2006-01-02T15:04:05"))
	r := request{op: "poll_orders", method: http.MethodGet, path: "/orders", query: q}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return platform.OrderPage{}, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.body, &raws); err != nil {
		return platform.OrderPage{}, transient(r.op, "GET /orders: HTTP %d with an unexpected body (%s)", resp.status, snippet(resp.body))
	}
	out := platform.OrderPage{Orders: make([]domain.Order, 0, len(raws))}
	newest := after
	for _, raw := range raws {
		o, err := NormaliseOrder(raw, conn)
		if err != nil {
			// One broken order must not stop intake: name it for the hub and go on.
			out.Failed = append(out.Failed, platform.FailedOrder{PlatformID: rawOrderID(raw), Reason: err.Error()})
			continue
		}
		out.Orders = append(out.Orders, o)
		if o.UpdatedAt.After(newest) {
			newest = o.UpdatedAt
		}
	}
	pages, _ := strconv.Atoi(strings.TrimSpace(resp.header.Get("X-WP-TotalPages")))
	more := len(raws) == s.pageSize
	if pages > 0 {
		more = page < pages
	}
	if more {
		out.Next, out.More = after.Format(time.RFC3339)+"|"+strconv.Itoa(page+1), true
	} else {
		next := newest.Add(-time.Second)
		if next.Before(after) {
			next = after
		}
		out.Next = next.Format(time.RFC3339) + "|1"
	}
	return out, nil
}

// rawOrderID is a listed order's id, or "" when it has none.
func rawOrderID(raw json.RawMessage) string {
	var v struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v.ID.String()
}

// notOrderError marks a body that is not an order at all (garbage: worth a retry).
type notOrderError struct{ snippet string }

func (e *notOrderError) Error() string { return "body is not a WooCommerce order (" + e.snippet + ")" }

// amount is a WooCommerce money value: a decimal string, sometimes a number or null.
type amount string

func (a *amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*a = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = amount(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*a = amount(b)
	default:
		return fmt.Errorf("not an amount")
	}
	return nil
}

// dec parses the amount; empty is zero. Negative values are allowed only when signed.
func (a amount) dec(signed bool) (decimal.Decimal, error) {
	s := string(a)
	if s == "" {
		return decimal.Zero, nil
	}
	if len(s) > 32 {
		return decimal.Decimal{}, fmt.Errorf("amount too long")
	}
	if !plainNumber(s) {
		return decimal.Decimal{}, fmt.Errorf("not a decimal number: %q", truncate(s, 32))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("not a decimal number: %q", truncate(s, 32))
	}
	if d.IsNegative() && !signed {
		return decimal.Decimal{}, fmt.Errorf("negative amount %s", s)
	}
	return d, nil
}

type addressJSON struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Company      string `json:"company"`
	Address1     string `json:"address_1"`
	Address2     string `json:"address_2"`
	City         string `json:"city"`
	State        string `json:"state"`
	Postcode     string `json:"postcode"`
	Country      string `json:"country"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Number       string `json:"number"`       // Brazilian Market on WooCommerce
	Neighborhood string `json:"neighborhood"` // idem
	PersonType   string `json:"persontype"`   // F or J
	CPF          string `json:"cpf"`
	CNPJ         string `json:"cnpj"`
	IE           string `json:"ie"` // inscrição estadual (state registration)
	Cellphone    string `json:"cellphone"`
}

func (a addressJSON) name() string {
	return strings.TrimSpace(strings.TrimSpace(a.FirstName) + " " + strings.TrimSpace(a.LastName))
}

type lineJSON struct {
	Name        string      `json:"name"`
	ProductID   json.Number `json:"product_id"`
	VariationID json.Number `json:"variation_id"`
	Quantity    json.Number `json:"quantity"`
	Subtotal    amount      `json:"subtotal"`
	SubtotalTax amount      `json:"subtotal_tax"`
	Total       amount      `json:"total"`
	TotalTax    amount      `json:"total_tax"`
	SKU         string      `json:"sku"`
	MetaData    []metaJSON  `json:"meta_data"`
}

type metaJSON struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func (m metaJSON) str() string {
	var s string
	if json.Unmarshal(m.Value, &s) == nil {
		return strings.TrimSpace(s)
	}
	return ""
}

type orderJSON struct {
	ID                 json.Number `json:"id"`
	Number             string      `json:"number"`
	Status             string      `json:"status"`
	Currency           string      `json:"currency"`
	DateCreated        string      `json:"date_created"`
	DateCreatedGMT     string      `json:"date_created_gmt"`
	DateModified       string      `json:"date_modified"`
	DateModifiedGMT    string      `json:"date_modified_gmt"`
	DiscountTotal      amount      `json:"discount_total"`
	DiscountTax        amount      `json:"discount_tax"`
	ShippingTotal      amount      `json:"shipping_total"`
	ShippingTax        amount      `json:"shipping_tax"`
	Total              amount      `json:"total"`
	TotalTax           amount      `json:"total_tax"`
	PricesIncludeTax   bool        `json:"prices_include_tax"`
	CustomerID         json.Number `json:"customer_id"`
	CustomerNote       string      `json:"customer_note"`
	Billing            addressJSON `json:"billing"`
	Shipping           addressJSON `json:"shipping"`
	PaymentMethod      string      `json:"payment_method"`
	PaymentMethodTitle string      `json:"payment_method_title"`
	MetaData           []metaJSON  `json:"meta_data"`
	LineItems          []lineJSON  `json:"line_items"`
	ShippingLines      []struct {
		MethodTitle string `json:"method_title"`
		MethodID    string `json:"method_id"`
	} `json:"shipping_lines"`
	FeeLines []struct {
		Name     string `json:"name"`
		Total    amount `json:"total"`
		TotalTax amount `json:"total_tax"`
	} `json:"fee_lines"`
	CouponLines []struct {
		Code string `json:"code"`
	} `json:"coupon_lines"`
}

// NormaliseOrder turns a REST v3 order (as GET orders/{id} and order webhooks send it)
// into the canonical order.
//
// WooCommerce stores every line, shipping and fee amount net of tax (subtotal, total,
// shipping_total, fee total) with its tax beside it (subtotal_tax, total_tax, ...), and
// prices_include_tax only says how the shop entered its product prices. The canonical
// order states amounts the way the shop does: net with Tax on top when prices exclude
// tax (a unit of "price": 3 is 3, not 3.225), gross with Tax inside (TaxesIncluded) when
// they include it, so every part of the total is on the same footing either way:
//   - line UnitPrice: subtotal/quantity (before coupons), plus subtotal_tax when gross;
//   - line Discount: subtotal − total (the coupons' share), taxes added when gross;
//   - line Tax: total_tax;
//   - Discount: discount_total (+ discount_tax when gross) plus negative fees, which
//     Brazilian stores use for PIX/boleto discounts;
//   - ShippingCost: shipping_total (+ shipping_tax when gross);
//   - Fees: positive fee_lines totals (+ their tax when gross);
//   - Tax: total_tax (cart, shipping and fee taxes); Total: total.
//
// A field that does not parse is reported as a *platform.UnparseableError naming it; a
// body that is not an order at all as a *notOrderError.
func NormaliseOrder(body []byte, conn domain.Connection) (domain.Order, error) {
	var o orderJSON
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return domain.Order{}, &notOrderError{snippet: snippet(body)}
	}
	if err := json.Unmarshal(trimmed, &o); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return domain.Order{}, platform.Unparseable(truncate(te.Field, 60), "has the wrong type (%s where %s was expected)", te.Value, te.Type)
		}
		return domain.Order{}, &notOrderError{snippet: snippet(body)}
	}
	id, ok := parseID(o.ID.String())
	if !ok {
		return domain.Order{}, platform.Unparseable("id", "missing or not a positive integer")
	}
	currency := strings.ToUpper(strings.TrimSpace(o.Currency))
	if currency == "" {
		currency = strings.ToUpper(conn.Currency)
	}
	if currency == "" {
		currency = "BRL"
	}
	if len(currency) != 3 {
		return domain.Order{}, platform.Unparseable("currency", "%q is not an ISO currency", truncate(currency, 10))
	}
	gross := o.PricesIncludeTax
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: strconv.FormatInt(id, 10),
		Number: firstNonEmpty(strings.TrimSpace(o.Number), strconv.FormatInt(id, 10)), PlatformStatus: strings.TrimSpace(o.Status),
		// The title is what the buyer chose at checkout ("Pix", "Direct Bank Transfer");
		// the gateway id is the fallback for orders created without one.
		PaymentMethod: firstNonEmpty(o.PaymentMethodTitle, o.PaymentMethod),
		Note:          strings.TrimSpace(o.CustomerNote),
		TaxesIncluded: gross,
		Lines:         []domain.OrderLine{},
	}
	var err error
	// sum adds net parts, and the tax parts too when the order is gross.
	sum := func(field string, signed bool, net amount, tax ...amount) decimal.Decimal {
		total := decimal.Zero
		parts := []amount{net}
		if gross {
			parts = append(parts, tax...)
		}
		for _, p := range parts {
			if err != nil {
				return total
			}
			d, e := p.dec(signed)
			if e != nil {
				err = platform.Unparseable(field, "%v", e)
			}
			total = total.Add(d)
		}
		return total
	}
	m := func(d decimal.Decimal) domain.Money { return domain.Money{Amount: d, Currency: currency} }
	discount := sum("discount_total", false, o.DiscountTotal, o.DiscountTax)
	fees, anyFee := decimal.Zero, false
	for i, f := range o.FeeLines {
		fee := sum(fmt.Sprintf("fee_lines[%d].total", i), true, f.Total, f.TotalTax)
		if fee.IsNegative() {
			discount = discount.Add(fee.Neg())
		} else {
			fees, anyFee = fees.Add(fee), true
		}
	}
	out.Discount = m(discount)
	if anyFee {
		f := m(fees)
		out.Fees = &f
	}
	out.ShippingCost = m(sum("shipping_total", false, o.ShippingTotal, o.ShippingTax))
	out.Total = m(sum("total", false, o.Total))
	if o.TotalTax != "" {
		t := m(sum("total_tax", false, o.TotalTax))
		out.Tax = &t
	}
	if err != nil {
		return domain.Order{}, err
	}
	if out.PlacedAt, err = wcTime(o.DateCreatedGMT, o.DateCreated); err != nil {
		return domain.Order{}, platform.Unparseable("date_created_gmt", "%v", err)
	}
	if o.DateModifiedGMT != "" || o.DateModified != "" {
		if out.UpdatedAt, err = wcTime(o.DateModifiedGMT, o.DateModified); err != nil {
			return domain.Order{}, platform.Unparseable("date_modified_gmt", "%v", err)
		}
	}
	if out.UpdatedAt.IsZero() {
		out.UpdatedAt = out.PlacedAt
	}
	var methods []string
	for _, sl := range o.ShippingLines {
		if t := firstNonEmpty(sl.MethodTitle, sl.MethodID); t != "" {
			methods = append(methods, t)
		}
	}
	out.ShippingMethod = strings.Join(methods, " + ")
	for _, c := range o.CouponLines {
		if code := strings.TrimSpace(c.Code); code != "" && !slices.Contains(out.CouponCodes, code) {
			out.CouponCodes = append(out.CouponCodes, code)
		}
	}
	normaliseCustomer(&out, o)
	for i, l := range o.LineItems {
		line, err := normaliseLine(l, currency, gross)
		if err != nil {
			return domain.Order{}, platform.Unparseable(fmt.Sprintf("line_items[%d].%s", i, err.field), "%v", err.err)
		}
		out.Lines = append(out.Lines, line)
	}
	return out, nil
}

// lineError names the line field that did not parse.
type lineError struct {
	field string
	err   error
}

func normaliseLine(l lineJSON, currency string, gross bool) (domain.OrderLine, *lineError) {
	qs := l.Quantity.String()
	qd, err := decimal.NewFromString(qs)
	if !plainNumber(qs) || len(qs) > 20 || err != nil || !qd.IsPositive() || !qd.IsInteger() || qd.GreaterThan(decimal.NewFromInt(1<<40)) {
		return domain.OrderLine{}, &lineError{"quantity", fmt.Errorf("%q is not a positive whole number", truncate(l.Quantity.String(), 20))}
	}
	qty := qd.IntPart()
	parse := func(field string, a amount) (decimal.Decimal, *lineError) {
		d, err := a.dec(false)
		if err != nil {
			return d, &lineError{field, err}
		}
		return d, nil
	}
	sub, lerr := parse("subtotal", l.Subtotal)
	if lerr != nil {
		return domain.OrderLine{}, lerr
	}
	subTax, lerr := parse("subtotal_tax", l.SubtotalTax)
	if lerr != nil {
		return domain.OrderLine{}, lerr
	}
	paid, lerr := parse("total", l.Total)
	if lerr != nil {
		return domain.OrderLine{}, lerr
	}
	paidTax, lerr := parse("total_tax", l.TotalTax)
	if lerr != nil {
		return domain.OrderLine{}, lerr
	}
	if gross {
		sub, paid = sub.Add(subTax), paid.Add(paidTax)
	}
	disc := sub.Sub(paid)
	if disc.IsNegative() {
		disc = decimal.Zero
	}
	line := domain.OrderLine{
		SKU: strings.TrimSpace(l.SKU), ProductID: idString(l.ProductID), VariantID: idString(l.VariationID),
		Name: strings.TrimSpace(l.Name), Quantity: qty,
		UnitPrice: domain.Money{Amount: sub.DivRound(qd, domain.MaxMoneyDecimals), Currency: currency},
		Discount:  domain.Money{Amount: disc, Currency: currency},
	}
	if l.TotalTax != "" {
		line.Tax = &domain.Money{Amount: paidTax, Currency: currency}
	}
	for _, md := range l.MetaData {
		switch strings.ToLower(md.Key) {
		case "_global_unique_id", "ean", "_ean", "gtin", "_gtin":
			if v := md.str(); v != "" && line.EAN == "" {
				line.EAN = v
			}
		}
	}
	return line, nil
}

// plainNumber accepts [-]digits[.digits]: no exponents, whose arithmetic on untrusted
// input could take unbounded memory and time.
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 40 {
		return false
	}
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// idString maps WooCommerce's 0 (none) to empty.
func idString(n json.Number) string {
	if id, ok := parseID(n.String()); ok {
		return strconv.FormatInt(id, 10)
	}
	return ""
}

// normaliseCustomer fills the buyer and both addresses. Brazilian stores keep the
// document, person type, state registration, house number, neighbourhood and cellphone
// in the fields the Brazilian Market on WooCommerce plugin adds: in billing/shipping
// (persontype, cpf, cnpj, ie, number, neighborhood, cellphone) through its REST
// extension, and as order meta (_billing_cpf, ...; some checkouts without the
// underscore) otherwise. Each is read only when present.
func normaliseCustomer(out *domain.Order, o orderJSON) {
	b, sh := o.Billing, o.Shipping
	meta := map[string]string{}
	for _, md := range o.MetaData {
		if v := md.str(); v != "" {
			meta[md.Key] = v
		}
	}
	metaOf := func(key string) string { return firstNonEmpty(meta["_"+key], meta[key]) }
	cpf := firstNonEmpty(b.CPF, metaOf("billing_cpf"))
	cnpj := firstNonEmpty(b.CNPJ, metaOf("billing_cnpj"))
	doc := firstNonEmpty(cpf, cnpj)
	// The plugin's REST field says F or J; its meta stores 1 (física) or 2 (jurídica).
	switch pt := strings.ToUpper(firstNonEmpty(b.PersonType, metaOf("billing_persontype"))); pt {
	case "J", "2":
		doc = firstNonEmpty(cnpj, cpf)
	}
	cu := domain.Customer{
		Tenant: out.Tenant, ExternalID: idString(o.CustomerID), Name: firstNonEmpty(b.name(), sh.name()),
		CompanyName: firstNonEmpty(b.Company, sh.Company), Document: domain.Digits(doc),
		Email:             strings.ToLower(strings.TrimSpace(b.Email)),
		StateRegistration: firstNonEmpty(b.IE, metaOf("billing_ie")),
	}
	cell := firstNonEmpty(b.Cellphone, metaOf("billing_cellphone"))
	for _, p := range []string{b.Phone, cell, sh.Phone} {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(cu.Phones, p) {
			cu.Phones = append(cu.Phones, p)
		}
	}
	b.Number = firstNonEmpty(b.Number, metaOf("billing_number"))
	b.Neighborhood = firstNonEmpty(b.Neighborhood, metaOf("billing_neighborhood"))
	sh.Number = firstNonEmpty(sh.Number, metaOf("shipping_number"))
	sh.Neighborhood = firstNonEmpty(sh.Neighborhood, metaOf("shipping_neighborhood"))
	phone := firstNonEmpty(cell, b.Phone)
	out.Billing = toAddress(b, phone)
	out.Shipping = toAddress(sh, firstNonEmpty(sh.Phone, phone))
	if out.Shipping != nil && out.Shipping.Name == "" && out.Billing != nil {
		out.Shipping.Name = out.Billing.Name
	}
	cu.Address = out.Billing
	out.Customer = cu
}

func toAddress(a addressJSON, phone string) *domain.Address {
	if strings.TrimSpace(a.Address1+a.City+a.Postcode) == "" {
		return nil
	}
	return &domain.Address{
		Name: a.name(), Street: strings.TrimSpace(a.Address1), Number: strings.TrimSpace(a.Number),
		Complement: strings.TrimSpace(a.Address2), Neighborhood: strings.TrimSpace(a.Neighborhood),
		City: strings.TrimSpace(a.City), State: strings.TrimSpace(a.State), PostalCode: strings.TrimSpace(a.Postcode),
		Country: strings.TrimSpace(a.Country), Phone: phone,
	}
}

// wcTime reads WooCommerce's "2006-01-02T15:04:05" GMT time; the site-local value is
// the fallback (taken as UTC) for payloads without the _gmt field.
func wcTime(gmt, local string) (time.Time, error) {
	v := strings.TrimSpace(firstNonEmpty(gmt, local))
	if v == "" {
		return time.Time{}, fmt.Errorf("missing")
	}
	for _, layout := range []string{"2006-01-02T15:04:05", time.RFC3339, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DDTHH:MM:SS", truncate(v, 40))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
