package shopify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
)

// flex takes JSON scalars as text: "12", 12 (ids beyond 2^53 stay exact), true, null.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("expected a scalar")
	default:
		*f = flex(b)
	}
	return nil
}

func (f flex) str() string { return strings.TrimSpace(string(f)) }

// rawOrder is the order as either shape (REST webhook or GraphQL) gives it.
type rawOrder struct {
	id, number, email, phone, currency string
	created, updated, cancelled        string
	financial, fulfillment             string
	total, discounts, shipping         string
	gateways                           []string
	shippingTitle                      string
	attrs                              map[string]string
	customer                           rawCustomer
	billing, ship                      *rawAddress
	lines                              []rawLine
}

type rawCustomer struct {
	id, first, last, email, phone string
	address                       *rawAddress
}

type rawAddress struct {
	Name         flex `json:"name"`
	FirstName    flex `json:"first_name"`
	LastName     flex `json:"last_name"`
	Company      flex `json:"company"`
	Address1     flex `json:"address1"`
	Address2     flex `json:"address2"`
	City         flex `json:"city"`
	Province     flex `json:"province"`
	ProvinceCode flex `json:"province_code"`
	Zip          flex `json:"zip"`
	Country      flex `json:"country"`
	CountryCode  flex `json:"country_code"`
	Phone        flex `json:"phone"`
	// GraphQL names
	GFirstName    flex `json:"firstName"`
	GLastName     flex `json:"lastName"`
	GProvinceCode flex `json:"provinceCode"`
	GCountryCode  flex `json:"countryCodeV2"`
}

type rawLine struct {
	sku, ean, product, variant, name string
	quantity                         string
	price, discount                  string
}

// restOrderJSON is the REST order resource that orders/* webhooks carry.
type restOrderJSON struct {
	ID                flex   `json:"id"`
	Name              flex   `json:"name"`
	Email             flex   `json:"email"`
	ContactEmail      flex   `json:"contact_email"`
	Phone             flex   `json:"phone"`
	Currency          flex   `json:"currency"`
	CreatedAt         flex   `json:"created_at"`
	UpdatedAt         flex   `json:"updated_at"`
	CancelledAt       flex   `json:"cancelled_at"`
	FinancialStatus   flex   `json:"financial_status"`
	FulfillmentStatus flex   `json:"fulfillment_status"`
	TotalPrice        flex   `json:"total_price"`
	TotalDiscounts    flex   `json:"total_discounts"`
	PaymentGateways   []flex `json:"payment_gateway_names"`
	TotalShipping     *struct {
		ShopMoney struct {
			Amount flex `json:"amount"`
		} `json:"shop_money"`
	} `json:"total_shipping_price_set"`
	ShippingLines []struct {
		Title flex `json:"title"`
		Price flex `json:"price"`
	} `json:"shipping_lines"`
	NoteAttributes []struct {
		Name  flex `json:"name"`
		Value flex `json:"value"`
	} `json:"note_attributes"`
	Customer *struct {
		ID             flex        `json:"id"`
		FirstName      flex        `json:"first_name"`
		LastName       flex        `json:"last_name"`
		Email          flex        `json:"email"`
		Phone          flex        `json:"phone"`
		DefaultAddress *rawAddress `json:"default_address"`
	} `json:"customer"`
	BillingAddress  *rawAddress `json:"billing_address"`
	ShippingAddress *rawAddress `json:"shipping_address"`
	LineItems       []struct {
		SKU                 flex `json:"sku"`
		ProductID           flex `json:"product_id"`
		VariantID           flex `json:"variant_id"`
		Name                flex `json:"name"`
		Title               flex `json:"title"`
		Quantity            flex `json:"quantity"`
		Price               flex `json:"price"`
		TotalDiscount       flex `json:"total_discount"`
		DiscountAllocations []struct {
			Amount flex `json:"amount"`
		} `json:"discount_allocations"`
	} `json:"line_items"`
}

// parseRESTOrder decodes a webhook order body.
func parseRESTOrder(body []byte) (rawOrder, error) {
	var o restOrderJSON
	if err := json.Unmarshal(body, &o); err != nil {
		return rawOrder{}, fmt.Errorf("body is not a Shopify order: %s", jsonProblem(err))
	}
	r := rawOrder{
		id: o.ID.str(), number: o.Name.str(), email: cmp.Or(o.Email.str(), o.ContactEmail.str()), phone: o.Phone.str(),
		currency: o.Currency.str(), created: o.CreatedAt.str(), updated: o.UpdatedAt.str(), cancelled: o.CancelledAt.str(),
		financial: o.FinancialStatus.str(), fulfillment: o.FulfillmentStatus.str(), total: o.TotalPrice.str(),
		discounts: o.TotalDiscounts.str(), attrs: map[string]string{}, billing: o.BillingAddress, ship: o.ShippingAddress,
	}
	for _, g := range o.PaymentGateways {
		if g.str() != "" {
			r.gateways = append(r.gateways, g.str())
		}
	}
	if o.TotalShipping != nil {
		r.shipping = o.TotalShipping.ShopMoney.Amount.str()
	}
	var titles []string
	shipSum := decimal.Zero
	for _, sl := range o.ShippingLines {
		if t := sl.Title.str(); t != "" {
			titles = append(titles, t)
		}
		if d, err := plainDecimal(sl.Price.str()); err == nil {
			shipSum = shipSum.Add(d)
		}
	}
	r.shippingTitle = strings.Join(titles, " + ")
	if r.shipping == "" && len(o.ShippingLines) > 0 {
		r.shipping = shipSum.String()
	}
	for _, a := range o.NoteAttributes {
		r.attrs[strings.ToLower(a.Name.str())] = a.Value.str()
	}
	if cu := o.Customer; cu != nil {
		r.customer = rawCustomer{id: cu.ID.str(), first: cu.FirstName.str(), last: cu.LastName.str(),
			email: cu.Email.str(), phone: cu.Phone.str(), address: cu.DefaultAddress}
	}
	for _, li := range o.LineItems {
		disc := decimal.Zero
		for _, da := range li.DiscountAllocations {
			if d, err := plainDecimal(da.Amount.str()); err == nil {
				disc = disc.Add(d)
			}
		}
		if len(li.DiscountAllocations) == 0 && li.TotalDiscount.str() != "" {
			if d, err := plainDecimal(li.TotalDiscount.str()); err == nil {
				disc = d
			}
		}
		r.lines = append(r.lines, rawLine{
			sku: li.SKU.str(), product: gidOf("Product", li.ProductID.str()), variant: gidOf("ProductVariant", li.VariantID.str()),
			name: cmp.Or(li.Name.str(), li.Title.str()), quantity: li.Quantity.str(), price: li.Price.str(), discount: disc.String(),
		})
	}
	return r, nil
}

type moneySet struct {
	ShopMoney struct {
		Amount       flex `json:"amount"`
		CurrencyCode flex `json:"currencyCode"`
	} `json:"shopMoney"`
}

func (m *moneySet) amount() string {
	if m == nil {
		return ""
	}
	return m.ShopMoney.Amount.str()
}

// gqlOrderJSON is what the GetOrder query selects.
type gqlOrderJSON struct {
	ID                       flex      `json:"id"`
	LegacyResourceID         flex      `json:"legacyResourceId"`
	Name                     flex      `json:"name"`
	Email                    flex      `json:"email"`
	Phone                    flex      `json:"phone"`
	CurrencyCode             flex      `json:"currencyCode"`
	CreatedAt                flex      `json:"createdAt"`
	UpdatedAt                flex      `json:"updatedAt"`
	CancelledAt              flex      `json:"cancelledAt"`
	DisplayFinancialStatus   flex      `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus flex      `json:"displayFulfillmentStatus"`
	PaymentGatewayNames      []flex    `json:"paymentGatewayNames"`
	TotalPriceSet            *moneySet `json:"totalPriceSet"`
	TotalDiscountsSet        *moneySet `json:"totalDiscountsSet"`
	TotalShippingPriceSet    *moneySet `json:"totalShippingPriceSet"`
	ShippingLine             *struct {
		Title flex `json:"title"`
	} `json:"shippingLine"`
	CustomAttributes []struct {
		Key   flex `json:"key"`
		Value flex `json:"value"`
	} `json:"customAttributes"`
	Customer *struct {
		ID             flex        `json:"id"`
		FirstName      flex        `json:"firstName"`
		LastName       flex        `json:"lastName"`
		Email          flex        `json:"email"`
		Phone          flex        `json:"phone"`
		DefaultAddress *rawAddress `json:"defaultAddress"`
	} `json:"customer"`
	BillingAddress  *rawAddress `json:"billingAddress"`
	ShippingAddress *rawAddress `json:"shippingAddress"`
	LineItems       struct {
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
		Nodes []struct {
			SKU      flex `json:"sku"`
			Name     flex `json:"name"`
			Title    flex `json:"title"`
			Quantity flex `json:"quantity"`
			Variant  *struct {
				ID      flex `json:"id"`
				Barcode flex `json:"barcode"`
			} `json:"variant"`
			Product *struct {
				ID flex `json:"id"`
			} `json:"product"`
			OriginalUnitPriceSet *moneySet `json:"originalUnitPriceSet"`
			DiscountAllocations  []struct {
				AllocatedAmountSet *moneySet `json:"allocatedAmountSet"`
			} `json:"discountAllocations"`
		} `json:"nodes"`
	} `json:"lineItems"`
}

// gqlLinesCursor is where the next page of an order's line items starts ("" when none).
func gqlLinesCursor(data []byte) string {
	var env struct {
		Order *gqlOrderJSON `json:"order"`
	}
	if json.Unmarshal(data, &env) != nil || env.Order == nil || !env.Order.LineItems.PageInfo.HasNextPage {
		return ""
	}
	return env.Order.LineItems.PageInfo.EndCursor
}

func parseGQLOrder(data []byte) (rawOrder, bool, error) {
	var env struct {
		Order *gqlOrderJSON `json:"order"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return rawOrder{}, false, fmt.Errorf("data is not a Shopify order: %s", jsonProblem(err))
	}
	o := env.Order
	if o == nil {
		return rawOrder{}, false, nil
	}
	r := rawOrder{
		id: cmp.Or(o.LegacyResourceID.str(), numericID(o.ID.str())), number: o.Name.str(), email: o.Email.str(),
		phone: o.Phone.str(), currency: o.CurrencyCode.str(), created: o.CreatedAt.str(), updated: o.UpdatedAt.str(),
		cancelled: o.CancelledAt.str(), financial: o.DisplayFinancialStatus.str(), fulfillment: o.DisplayFulfillmentStatus.str(),
		total: o.TotalPriceSet.amount(), discounts: o.TotalDiscountsSet.amount(), shipping: o.TotalShippingPriceSet.amount(),
		attrs: map[string]string{}, billing: o.BillingAddress, ship: o.ShippingAddress,
	}
	for _, g := range o.PaymentGatewayNames {
		if g.str() != "" {
			r.gateways = append(r.gateways, g.str())
		}
	}
	if o.ShippingLine != nil {
		r.shippingTitle = o.ShippingLine.Title.str()
	}
	for _, a := range o.CustomAttributes {
		r.attrs[strings.ToLower(a.Key.str())] = a.Value.str()
	}
	if cu := o.Customer; cu != nil {
		r.customer = rawCustomer{id: numericID(cu.ID.str()), first: cu.FirstName.str(), last: cu.LastName.str(),
			email: cu.Email.str(), phone: cu.Phone.str(), address: cu.DefaultAddress}
	}
	for _, li := range o.LineItems.Nodes {
		disc := decimal.Zero
		for _, da := range li.DiscountAllocations {
			if d, err := plainDecimal(da.AllocatedAmountSet.amount()); err == nil {
				disc = disc.Add(d)
			}
		}
		l := rawLine{sku: li.SKU.str(), name: cmp.Or(li.Name.str(), li.Title.str()), quantity: li.Quantity.str(),
			price: li.OriginalUnitPriceSet.amount(), discount: disc.String()}
		if li.Variant != nil {
			l.variant, l.ean = li.Variant.ID.str(), li.Variant.Barcode.str()
		}
		if li.Product != nil {
			l.product = li.Product.ID.str()
		}
		r.lines = append(r.lines, l)
	}
	return r, true, nil
}

// normalise turns either shape into the canonical order. Amounts are in the shop's
// currency. Line discounts are the discounts Shopify allocated to each line; the order
// discount is what total_discounts holds beyond them (order-level remainder, e.g. on
// shipping), so lines, order discount and shipping add up without counting twice.
func normalise(r rawOrder, conn domain.Connection, currency string) (domain.Order, error) {
	if r.id == "" || !allDigits(r.id) || len(r.id) > 24 {
		return domain.Order{}, fmt.Errorf("field id is missing or not a Shopify order id")
	}
	if c := strings.ToUpper(r.currency); c != "" {
		if len(c) != 3 {
			return domain.Order{}, fmt.Errorf("field currency %q is not a currency code", truncate(c, 10))
		}
		currency = c
	}
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: r.id, Number: r.number,
		PlatformStatus: orderStatus(r), PaymentMethod: strings.Join(r.gateways, ", "), ShippingMethod: r.shippingTitle,
		Lines: []domain.OrderLine{},
	}
	var err error
	if out.Total, err = amount(r.total, currency); err != nil {
		return domain.Order{}, fmt.Errorf("field total_price: %v", err)
	}
	if out.ShippingCost, err = amount(r.shipping, currency); err != nil {
		return domain.Order{}, fmt.Errorf("field total_shipping_price: %v", err)
	}
	discounts, err := amount(r.discounts, currency)
	if err != nil {
		return domain.Order{}, fmt.Errorf("field total_discounts: %v", err)
	}
	if out.PlacedAt, err = utcTime(r.created); err != nil {
		return domain.Order{}, fmt.Errorf("field created_at: %v", err)
	}
	if r.updated != "" {
		if out.UpdatedAt, err = utcTime(r.updated); err != nil {
			return domain.Order{}, fmt.Errorf("field updated_at: %v", err)
		}
	} else {
		out.UpdatedAt = out.PlacedAt
	}
	lineDisc := decimal.Zero
	for i, l := range r.lines {
		line, err := normaliseLine(l, currency)
		if err != nil {
			return domain.Order{}, fmt.Errorf("field line_items[%d].%v", i, err)
		}
		lineDisc = lineDisc.Add(line.Discount.Amount)
		out.Lines = append(out.Lines, line)
	}
	out.Discount = domain.Money{Amount: decimal.Max(discounts.Amount.Sub(lineDisc), decimal.Zero), Currency: currency}
	out.Customer = normaliseCustomer(r, conn.Tenant)
	out.Billing = toAddress(r.billing)
	out.Shipping = toAddress(r.ship)
	if out.Customer.Address == nil {
		out.Customer.Address = firstAddress(out.Billing, out.Shipping)
	}
	return out, nil
}

// orderStatus is the single status the status map works on: "cancelled" when cancelled,
// "fulfilled" once shipped in full, else the financial status ("paid", "pending",
// "authorized", "refunded", ...), lower-case in both API shapes.
func orderStatus(r rawOrder) string {
	switch {
	case r.cancelled != "":
		return "cancelled"
	case strings.EqualFold(r.fulfillment, "fulfilled"):
		return "fulfilled"
	}
	return strings.ToLower(r.financial)
}

func normaliseLine(l rawLine, currency string) (domain.OrderLine, error) {
	qty, err := strconv.ParseInt(l.quantity, 10, 64)
	if err != nil || qty <= 0 {
		return domain.OrderLine{}, fmt.Errorf("quantity: %q is not a positive whole number", truncate(l.quantity, 20))
	}
	price, err := amount(l.price, currency)
	if err != nil {
		return domain.OrderLine{}, fmt.Errorf("price: %v", err)
	}
	disc, err := amount(l.discount, currency)
	if err != nil {
		return domain.OrderLine{}, fmt.Errorf("discount: %v", err)
	}
	return domain.OrderLine{SKU: l.sku, EAN: l.ean, ProductID: l.product, VariantID: l.variant, Name: l.name,
		Quantity: qty, UnitPrice: price, Discount: disc}, nil
}

// documentKeys are the checkout attributes Brazilian (and other) stores use for the
// buyer's tax id; Shopify has no native field for it in the order resource.
var documentKeys = []string{"cpf", "cnpj", "cpf/cnpj", "cpf_cnpj", "document", "documento", "tax_id", "vat", "vat_number"}

func normaliseCustomer(r rawOrder, tenant string) domain.Customer {
	cu := domain.Customer{Tenant: tenant, ExternalID: r.customer.id}
	cu.Name = strings.TrimSpace(r.customer.first + " " + r.customer.last)
	for _, a := range []*rawAddress{r.billing, r.ship} {
		if cu.Name == "" && a != nil {
			cu.Name = addressName(a)
		}
		if cu.CompanyName == "" && a != nil {
			cu.CompanyName = a.Company.str()
		}
	}
	cu.Email = strings.ToLower(cmp.Or(r.email, r.customer.email))
	for _, k := range documentKeys {
		if v := r.attrs[k]; v != "" {
			cu.Document = v
			if d := domain.Digits(v); len(d) == 11 || len(d) == 14 { // CPF or CNPJ
				cu.Document = d
			}
			break
		}
	}
	for _, p := range []string{r.customer.phone, r.phone, phoneOf(r.billing), phoneOf(r.ship)} {
		if p != "" && !slices.Contains(cu.Phones, p) {
			cu.Phones = append(cu.Phones, p)
		}
	}
	cu.Address = toAddress(r.customer.address)
	return cu
}

func phoneOf(a *rawAddress) string {
	if a == nil {
		return ""
	}
	return a.Phone.str()
}

func addressName(a *rawAddress) string {
	return cmp.Or(a.Name.str(), strings.TrimSpace(cmp.Or(a.FirstName.str(), a.GFirstName.str())+" "+
		cmp.Or(a.LastName.str(), a.GLastName.str())))
}

// toAddress maps a Shopify address. address1 "Rua X, 123" is split into street and
// number when it ends in a short number; address2 is the complement.
func toAddress(a *rawAddress) *domain.Address {
	if a == nil || (a.Address1.str() == "" && a.City.str() == "" && a.Zip.str() == "") {
		return nil
	}
	street, number := splitNumber(a.Address1.str())
	return &domain.Address{
		Name: addressName(a), Street: street, Number: number, Complement: a.Address2.str(), City: a.City.str(),
		State:      cmp.Or(a.ProvinceCode.str(), a.GProvinceCode.str(), a.Province.str()),
		PostalCode: a.Zip.str(), Country: cmp.Or(a.CountryCode.str(), a.GCountryCode.str(), a.Country.str()),
		Phone: a.Phone.str(),
	}
}

func splitNumber(s string) (street, number string) {
	i := strings.LastIndex(s, ",")
	if i <= 0 {
		return s, ""
	}
	n := strings.TrimSpace(s[i+1:])
	if n == "" || len(n) > 10 || n[0] < '0' || n[0] > '9' {
		return s, ""
	}
	return strings.TrimSpace(s[:i]), n
}

func firstAddress(as ...*domain.Address) *domain.Address {
	for _, a := range as {
		if a != nil {
			c := *a
			return &c
		}
	}
	return nil
}

// plainDecimal parses a plain decimal ("-12.50"): digits with at most one point, no
// exponent (a body saying 1e999999999 must not make us build a billion-digit number).
func plainDecimal(s string) (decimal.Decimal, error) {
	if s == "" || len(s) > 32 {
		return decimal.Decimal{}, fmt.Errorf("not a plain decimal")
	}
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot:
			dot = true
		case r == '-' && i == 0:
		default:
			return decimal.Decimal{}, fmt.Errorf("not a plain decimal")
		}
	}
	return decimal.NewFromString(s)
}

// amount parses a non-negative decimal; empty means zero.
func amount(s, currency string) (domain.Money, error) {
	if s == "" {
		return domain.Money{Amount: decimal.Zero, Currency: currency}, nil
	}
	if len(s) > 32 {
		return domain.Money{}, fmt.Errorf("amount too long")
	}
	if _, err := plainDecimal(s); err != nil {
		return domain.Money{}, fmt.Errorf("%q is not a plain decimal amount", truncate(s, 32))
	}
	d, err := domain.ParseAmount(s)
	if err != nil {
		return domain.Money{}, err
	}
	return domain.Money{Amount: d, Currency: currency}, nil
}

func utcTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("missing")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", truncate(s, 40))
	}
	return t.UTC(), nil
}

func gidOf(kind, id string) string {
	if id == "" {
		return ""
	}
	if g, ok := toGID(kind, id); ok {
		return g
	}
	return ""
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "field " + te.Field + " has the wrong type"
	}
	return truncate(err.Error(), 120)
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

const getOrderQuery = `query GetOrder($id: ID!, $after: String) {
  order(id: $id) {
    id legacyResourceId name email phone currencyCode createdAt updatedAt cancelledAt
    displayFinancialStatus displayFulfillmentStatus paymentGatewayNames
    totalPriceSet { shopMoney { amount currencyCode } }
    totalDiscountsSet { shopMoney { amount currencyCode } }
    totalShippingPriceSet { shopMoney { amount currencyCode } }
    shippingLine { title }
    customAttributes { key value }
    customer { id firstName lastName email phone defaultAddress { ...Addr } }
    billingAddress { ...Addr }
    shippingAddress { ...Addr }
    lineItems(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        sku name title quantity
        variant { id barcode }
        product { id }
        originalUnitPriceSet { shopMoney { amount currencyCode } }
        discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
      }
    }
  }
}
fragment Addr on MailingAddress {
  name firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone
}`

// getOrderCost is the requested-cost estimate of GetOrder (100 line items).
const getOrderCost = 420

// FetchOrder reads an order with GraphQL order(id:) and normalises it. The id is the
// order's number id or GID.
func (c *Connector) FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error) {
	s, err := c.settings(conn)
	if err != nil {
		return domain.Order{}, err
	}
	gid, ok := toGID("Order", platformOrderID)
	if !ok {
		return domain.Order{}, permanent("fetch_order", "invalid Shopify order id %q", platformOrderID)
	}
	var raw rawOrder
	var after any
	for page := 0; ; page++ {
		data, err := c.graphql(ctx, conn, s, gqlRequest{op: "fetch_order", operation: "GetOrder", query: getOrderQuery,
			vars: map[string]any{"id": gid, "after": after}, cost: getOrderCost})
		if data == nil {
			return domain.Order{}, err
		}
		got, found, perr := parseGQLOrder(data)
		switch {
		case perr != nil:
			return domain.Order{}, transient("fetch_order", "GetOrder: %v", perr)
		case !found:
			return domain.Order{}, permanent("fetch_order", "order %s not found on Shopify", platformOrderID)
		}
		if page == 0 {
			raw = got
		} else {
			raw.lines = append(raw.lines, got.lines...)
		}
		next := gqlLinesCursor(data)
		if next == "" {
			break
		}
		if page >= 20 { // 2,000 lines: a runaway cursor, not an order
			return domain.Order{}, permanent("fetch_order", "order %s: more than 2000 line items", platformOrderID)
		}
		after = next
	}
	o, nerr := normalise(raw, conn, s.currency)
	if nerr != nil {
		return domain.Order{}, permanent("fetch_order", "order %s: %v", platformOrderID, nerr)
	}
	return o, nil
}
