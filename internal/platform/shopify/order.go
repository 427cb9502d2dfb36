package shopify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
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
		// A type error, so encoding/json adds the field's path for the parse error.
		v := "object"
		if b[0] == '[' {
			v = "array"
		}
		return &json.UnmarshalTypeError{Value: v, Type: reflect.TypeFor[string]()}
	default:
		*f = flex(b)
	}
	return nil
}

func (f flex) str() string { return strings.TrimSpace(string(f)) }

// rawOrder is the order as either shape (REST webhook or GraphQL) gives it. Amounts are
// text, checked when normalised; "" means the shape did not carry the field.
type rawOrder struct {
	id, number, email, phone, currency string
	created, updated, cancelled        string
	financial, fulfillment             string
	total, discounts, shipping         string
	// shipDiscount is what discounts took off the shipping lines (REST price −
	// discounted_price); tax is the order's tax ("" when not stated).
	shipDiscount, tax string
	taxesIncluded     bool
	gateways          []string
	coupons           []string
	note              string
	shippingTitle     string
	attrs             map[string]string
	customer          rawCustomer
	billing, ship     *rawAddress
	lines             []rawLine
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
	// tax is the line's tax; hasTax says the shape listed the line's tax lines at all.
	tax    string
	hasTax bool
}

// restAmount is one entry of a REST list that carries an amount under some key.
type restAmount struct {
	Amount flex `json:"amount"`
	Price  flex `json:"price"`
}

// restOrderJSON is the REST order resource that orders/* webhooks carry. Line items are
// decoded one by one so a parse failure names its index.
type restOrderJSON struct {
	ID                flex         `json:"id"`
	Name              flex         `json:"name"`
	Email             flex         `json:"email"`
	ContactEmail      flex         `json:"contact_email"`
	Phone             flex         `json:"phone"`
	Currency          flex         `json:"currency"`
	CreatedAt         flex         `json:"created_at"`
	UpdatedAt         flex         `json:"updated_at"`
	CancelledAt       flex         `json:"cancelled_at"`
	FinancialStatus   flex         `json:"financial_status"`
	FulfillmentStatus flex         `json:"fulfillment_status"`
	TotalPrice        flex         `json:"total_price"`
	TotalDiscounts    flex         `json:"total_discounts"`
	TotalTax          flex         `json:"total_tax"`
	TaxesIncluded     flex         `json:"taxes_included"`
	TaxLines          []restAmount `json:"tax_lines"`
	PaymentGateways   []flex       `json:"payment_gateway_names"`
	// Gateway is the single payment gateway older payloads carry (deprecated by Shopify
	// in favour of payment_gateway_names, still present in old orders and fixtures).
	Gateway       flex `json:"gateway"`
	Note          flex `json:"note"`
	DiscountCodes []struct {
		Code flex `json:"code"`
	} `json:"discount_codes"`
	TotalShipping *struct {
		ShopMoney struct {
			Amount flex `json:"amount"`
		} `json:"shop_money"`
	} `json:"total_shipping_price_set"`
	ShippingLines []struct {
		Title               flex         `json:"title"`
		Price               flex         `json:"price"`
		DiscountedPrice     flex         `json:"discounted_price"`
		DiscountAllocations []restAmount `json:"discount_allocations"`
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
	BillingAddress  *rawAddress       `json:"billing_address"`
	ShippingAddress *rawAddress       `json:"shipping_address"`
	LineItems       []json.RawMessage `json:"line_items"`
}

// restLineJSON is one REST line item.
type restLineJSON struct {
	SKU                 flex         `json:"sku"`
	ProductID           flex         `json:"product_id"`
	VariantID           flex         `json:"variant_id"`
	Name                flex         `json:"name"`
	Title               flex         `json:"title"`
	Quantity            flex         `json:"quantity"`
	Price               flex         `json:"price"`
	TotalDiscount       flex         `json:"total_discount"`
	DiscountAllocations []restAmount `json:"discount_allocations"`
	TaxLines            []restAmount `json:"tax_lines"`
}

// sumAmounts adds the amounts of a REST list (key "amount" or "price"), naming the
// first entry that is not a plain decimal as field[i].key.
func sumAmounts(list []restAmount, field, key string) (decimal.Decimal, error) {
	sum := decimal.Zero
	for i, a := range list {
		v := a.Amount.str()
		if key == "price" {
			v = a.Price.str()
		}
		if v == "" {
			continue
		}
		d, err := plainDecimal(v)
		if err != nil {
			return decimal.Zero, platform.Unparseable(fmt.Sprintf("%s[%d].%s", field, i, key), "%q is not a plain decimal", truncate(v, 32))
		}
		sum = sum.Add(d)
	}
	return sum, nil
}

// unparseableJSON names the field a JSON decoding error is about, under prefix.
func unparseableJSON(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		f := te.Field
		if prefix != "" {
			f = prefix + "." + f
		}
		return platform.Unparseable(f, "has the wrong type (%s)", te.Value)
	}
	return platform.Unparseable(cmp.Or(prefix, "body"), "%s", truncate(err.Error(), 120))
}

// parseRESTOrder decodes a webhook order body. Its errors are *platform.UnparseableError
// naming the field in REST terms (line_items[0].quantity, body).
func parseRESTOrder(body []byte) (rawOrder, error) {
	var o restOrderJSON
	if err := json.Unmarshal(body, &o); err != nil {
		return rawOrder{}, unparseableJSON("", err)
	}
	r := rawOrder{
		id: o.ID.str(), number: o.Name.str(), email: cmp.Or(o.Email.str(), o.ContactEmail.str()), phone: o.Phone.str(),
		currency: o.Currency.str(), created: o.CreatedAt.str(), updated: o.UpdatedAt.str(), cancelled: o.CancelledAt.str(),
		financial: o.FinancialStatus.str(), fulfillment: o.FulfillmentStatus.str(), total: o.TotalPrice.str(),
		discounts: o.TotalDiscounts.str(), tax: o.TotalTax.str(), note: o.Note.str(),
		attrs: map[string]string{}, billing: o.BillingAddress, ship: o.ShippingAddress,
	}
	if v := o.TaxesIncluded.str(); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return rawOrder{}, platform.Unparseable("taxes_included", "%q is not true or false", truncate(v, 20))
		}
		r.taxesIncluded = b
	}
	if r.tax == "" && o.TaxLines != nil {
		// Without total_tax, the order's tax lines are its tax.
		sum, err := sumAmounts(o.TaxLines, "tax_lines", "price")
		if err != nil {
			return rawOrder{}, err
		}
		r.tax = sum.String()
	}
	for _, g := range o.PaymentGateways {
		if g.str() != "" {
			r.gateways = append(r.gateways, g.str())
		}
	}
	if len(r.gateways) == 0 && o.Gateway.str() != "" {
		r.gateways = []string{o.Gateway.str()}
	}
	for _, dc := range o.DiscountCodes {
		if c := dc.Code.str(); c != "" && !slices.Contains(r.coupons, c) {
			r.coupons = append(r.coupons, c)
		}
	}
	if o.TotalShipping != nil {
		r.shipping = o.TotalShipping.ShopMoney.Amount.str()
	}
	var titles []string
	shipSum, shipDisc := decimal.Zero, decimal.Zero
	for i, sl := range o.ShippingLines {
		if t := sl.Title.str(); t != "" {
			titles = append(titles, t)
		}
		price := decimal.Zero
		if v := sl.Price.str(); v != "" {
			d, err := plainDecimal(v)
			if err != nil {
				return rawOrder{}, platform.Unparseable(fmt.Sprintf("shipping_lines[%d].price", i), "%q is not a plain decimal", truncate(v, 32))
			}
			price = d
		}
		shipSum = shipSum.Add(price)
		// price is before discounts; discounted_price after them. Older payloads have only
		// the discount allocations.
		if v := sl.DiscountedPrice.str(); v != "" {
			d, err := plainDecimal(v)
			if err != nil {
				return rawOrder{}, platform.Unparseable(fmt.Sprintf("shipping_lines[%d].discounted_price", i), "%q is not a plain decimal", truncate(v, 32))
			}
			shipDisc = shipDisc.Add(decimal.Max(price.Sub(d), decimal.Zero))
		} else {
			d, err := sumAmounts(sl.DiscountAllocations, fmt.Sprintf("shipping_lines[%d].discount_allocations", i), "amount")
			if err != nil {
				return rawOrder{}, err
			}
			shipDisc = shipDisc.Add(d)
		}
	}
	r.shippingTitle = strings.Join(titles, " + ")
	if r.shipping == "" && len(o.ShippingLines) > 0 {
		r.shipping = shipSum.String()
	}
	r.shipDiscount = shipDisc.String()
	for _, a := range o.NoteAttributes {
		r.attrs[strings.ToLower(a.Name.str())] = a.Value.str()
	}
	if cu := o.Customer; cu != nil {
		r.customer = rawCustomer{id: cu.ID.str(), first: cu.FirstName.str(), last: cu.LastName.str(),
			email: cu.Email.str(), phone: cu.Phone.str(), address: cu.DefaultAddress}
	}
	for i, raw := range o.LineItems {
		field := fmt.Sprintf("line_items[%d]", i)
		var li restLineJSON
		if err := json.Unmarshal(raw, &li); err != nil {
			return rawOrder{}, unparseableJSON(field, err)
		}
		disc, err := sumAmounts(li.DiscountAllocations, field+".discount_allocations", "amount")
		if err != nil {
			return rawOrder{}, err
		}
		if len(li.DiscountAllocations) == 0 && li.TotalDiscount.str() != "" {
			if disc, err = plainDecimal(li.TotalDiscount.str()); err != nil {
				return rawOrder{}, platform.Unparseable(field+".total_discount", "%q is not a plain decimal", truncate(li.TotalDiscount.str(), 32))
			}
		}
		l := rawLine{
			sku: li.SKU.str(), product: gidOf("Product", li.ProductID.str()), variant: gidOf("ProductVariant", li.VariantID.str()),
			name: cmp.Or(li.Name.str(), li.Title.str()), quantity: li.Quantity.str(), price: li.Price.str(), discount: disc.String(),
		}
		if li.TaxLines != nil {
			tax, err := sumAmounts(li.TaxLines, field+".tax_lines", "price")
			if err != nil {
				return rawOrder{}, err
			}
			l.tax, l.hasTax = tax.String(), true
		}
		r.lines = append(r.lines, l)
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

// gqlLineJSON is one line item as the order queries select it.
type gqlLineJSON struct {
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
	TaxLines []struct {
		PriceSet *moneySet `json:"priceSet"`
	} `json:"taxLines"`
}

// gqlOrderJSON is what the GetOrder and PollOrders queries select.
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
	DiscountCodes            []flex    `json:"discountCodes"`
	Note                     flex      `json:"note"`
	TaxesIncluded            *bool     `json:"taxesIncluded"`
	TotalPriceSet            *moneySet `json:"totalPriceSet"`
	TotalDiscountsSet        *moneySet `json:"totalDiscountsSet"`
	TotalShippingPriceSet    *moneySet `json:"totalShippingPriceSet"`
	TotalTaxSet              *moneySet `json:"totalTaxSet"`
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
		Nodes []gqlLineJSON `json:"nodes"`
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
	if env.Order == nil {
		return rawOrder{}, false, nil
	}
	return gqlRaw(env.Order), true, nil
}

// gqlRaw maps a GraphQL order. The GraphQL totals are documented as: totalDiscountsSet
// all discounts, order and line level; totalShippingPriceSet shipping before discounts;
// so shipDiscount stays "" (it is inside the discounts already).
func gqlRaw(o *gqlOrderJSON) rawOrder {
	r := rawOrder{
		id: cmp.Or(o.LegacyResourceID.str(), numericID(o.ID.str())), number: o.Name.str(), email: o.Email.str(),
		phone: o.Phone.str(), currency: o.CurrencyCode.str(), created: o.CreatedAt.str(), updated: o.UpdatedAt.str(),
		cancelled: o.CancelledAt.str(), financial: o.DisplayFinancialStatus.str(), fulfillment: o.DisplayFulfillmentStatus.str(),
		total: o.TotalPriceSet.amount(), discounts: o.TotalDiscountsSet.amount(), shipping: o.TotalShippingPriceSet.amount(),
		tax: o.TotalTaxSet.amount(), note: o.Note.str(),
		attrs: map[string]string{}, billing: o.BillingAddress, ship: o.ShippingAddress,
	}
	if o.TaxesIncluded != nil {
		r.taxesIncluded = *o.TaxesIncluded
	}
	for _, g := range o.PaymentGatewayNames {
		if g.str() != "" {
			r.gateways = append(r.gateways, g.str())
		}
	}
	for _, c := range o.DiscountCodes {
		if c.str() != "" && !slices.Contains(r.coupons, c.str()) {
			r.coupons = append(r.coupons, c.str())
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
	r.lines = gqlLines(o.LineItems.Nodes)
	return r
}

// gqlLines maps GraphQL line items. Amounts that are not plain decimals are passed on
// as they are, for normalise to reject with the field named.
func gqlLines(nodes []gqlLineJSON) []rawLine {
	var out []rawLine
	for _, li := range nodes {
		disc, bad := decimal.Zero, ""
		for _, da := range li.DiscountAllocations {
			if v := da.AllocatedAmountSet.amount(); v != "" {
				if d, err := plainDecimal(v); err == nil {
					disc = disc.Add(d)
				} else {
					bad = v
				}
			}
		}
		l := rawLine{sku: li.SKU.str(), name: cmp.Or(li.Name.str(), li.Title.str()), quantity: li.Quantity.str(),
			price: li.OriginalUnitPriceSet.amount(), discount: cmp.Or(bad, disc.String())}
		if li.TaxLines != nil {
			tax, badTax := decimal.Zero, ""
			for _, tl := range li.TaxLines {
				if v := tl.PriceSet.amount(); v != "" {
					if d, err := plainDecimal(v); err == nil {
						tax = tax.Add(d)
					} else {
						badTax = v
					}
				}
			}
			l.tax, l.hasTax = cmp.Or(badTax, tax.String()), true
		}
		if li.Variant != nil {
			l.variant, l.ean = li.Variant.ID.str(), li.Variant.Barcode.str()
		}
		if li.Product != nil {
			l.product = li.Product.ID.str()
		}
		out = append(out, l)
	}
	return out
}

// normalise turns either shape into the canonical order. Amounts are in the shop's
// currency. Unit prices are Shopify's line price as stated (tax inside when the order
// says taxes_included); a line's discount is what Shopify allocated to it. The order's
// discount is every discount: total_discounts (which holds line and shipping
// discounts), or the allocations when they add up to more (a payload whose total leaves
// shipping discounts out), so lines − discount + shipping (before its discount) + tax
// make the total. Errors are *platform.UnparseableError naming the field in REST terms.
func normalise(r rawOrder, conn domain.Connection, currency string) (domain.Order, error) {
	if r.id == "" || !allDigits(r.id) || len(r.id) > 24 {
		return domain.Order{}, platform.Unparseable("id", "missing or not a Shopify order id")
	}
	if c := strings.ToUpper(r.currency); c != "" {
		if len(c) != 3 {
			return domain.Order{}, platform.Unparseable("currency", "%q is not a currency code", truncate(c, 10))
		}
		currency = c
	}
	out := domain.Order{
		Tenant: conn.Tenant, ConnectionID: conn.ID, PlatformID: r.id, Number: r.number,
		PlatformStatus: orderStatus(r), PaymentMethod: strings.Join(r.gateways, ", "), ShippingMethod: r.shippingTitle,
		Lines: []domain.OrderLine{}, CouponCodes: r.coupons, Note: r.note, TaxesIncluded: r.taxesIncluded,
	}
	var err error
	if out.Total, err = amount(r.total, currency); err != nil {
		return domain.Order{}, platform.Unparseable("total_price", "%v", err)
	}
	if out.ShippingCost, err = amount(r.shipping, currency); err != nil {
		return domain.Order{}, platform.Unparseable("total_shipping_price_set", "%v", err)
	}
	shipDisc, err := amount(r.shipDiscount, currency)
	if err != nil {
		return domain.Order{}, platform.Unparseable("shipping_lines", "%v", err)
	}
	if r.tax != "" {
		tax, err := amount(r.tax, currency)
		if err != nil {
			return domain.Order{}, platform.Unparseable("total_tax", "%v", err)
		}
		out.Tax = &tax
	}
	if out.PlacedAt, err = utcTime(r.created); err != nil {
		return domain.Order{}, platform.Unparseable("created_at", "%v", err)
	}
	if r.updated != "" {
		if out.UpdatedAt, err = utcTime(r.updated); err != nil {
			return domain.Order{}, platform.Unparseable("updated_at", "%v", err)
		}
	} else {
		out.UpdatedAt = out.PlacedAt
	}
	lineDisc := decimal.Zero
	for i, l := range r.lines {
		line, err := normaliseLine(l, currency)
		if err != nil {
			return domain.Order{}, platform.Unparseable(fmt.Sprintf("line_items[%d].%s", i, err.Field), "%v", err.Err)
		}
		lineDisc = lineDisc.Add(line.Discount.Amount)
		out.Lines = append(out.Lines, line)
	}
	allocated := lineDisc.Add(shipDisc.Amount)
	out.Discount = domain.Money{Amount: allocated, Currency: currency}
	if r.discounts != "" {
		d, err := amount(r.discounts, currency)
		if err != nil {
			return domain.Order{}, platform.Unparseable("total_discounts", "%v", err)
		}
		out.Discount.Amount = decimal.Max(d.Amount, allocated)
	}
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

// normaliseLine maps one line; its error names the field within the line.
func normaliseLine(l rawLine, currency string) (domain.OrderLine, *platform.UnparseableError) {
	bad := func(field, format string, args ...any) *platform.UnparseableError {
		return &platform.UnparseableError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	qty, err := strconv.ParseInt(l.quantity, 10, 64)
	if err != nil || qty <= 0 {
		return domain.OrderLine{}, bad("quantity", "%q is not a positive whole number", truncate(l.quantity, 20))
	}
	price, err := amount(l.price, currency)
	if err != nil {
		return domain.OrderLine{}, bad("price", "%v", err)
	}
	disc, err := amount(l.discount, currency)
	if err != nil {
		return domain.OrderLine{}, bad("discount_allocations", "%v", err)
	}
	out := domain.OrderLine{SKU: l.sku, EAN: l.ean, ProductID: l.product, VariantID: l.variant, Name: l.name,
		Quantity: qty, UnitPrice: price, Discount: disc}
	if l.hasTax {
		tax, err := amount(l.tax, currency)
		if err != nil {
			return domain.OrderLine{}, bad("tax_lines", "%v", err)
		}
		out.Tax = &tax
	}
	return out, nil
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

// orderFragments select what normalise reads, shared by GetOrder and PollOrders.
const orderFragments = `
fragment OrderFields on Order {
  id legacyResourceId name email phone currencyCode createdAt updatedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus paymentGatewayNames discountCodes note taxesIncluded
  totalPriceSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  shippingLine { title }
  customAttributes { key value }
  customer { id firstName lastName email phone defaultAddress { ...Addr } }
  billingAddress { ...Addr }
  shippingAddress { ...Addr }
}
fragment LineFields on LineItem {
  sku name title quantity
  variant { id barcode }
  product { id }
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
  taxLines { priceSet { shopMoney { amount currencyCode } } }
}
fragment Addr on MailingAddress {
  name firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone
}`

const getOrderQuery = `query GetOrder($id: ID!, $after: String) {
  order(id: $id) {
    ...OrderFields
    lineItems(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...LineFields }
    }
  }
}` + orderFragments

// getOrderCost is the requested-cost estimate of GetOrder (100 line items at about six
// points each, plus the order's own objects).
const getOrderCost = 620

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
	data, err := c.graphql(ctx, conn, s, gqlRequest{op: "fetch_order", operation: "GetOrder", query: getOrderQuery,
		vars: map[string]any{"id": gid, "after": nil}, cost: getOrderCost})
	if data == nil {
		return domain.Order{}, err
	}
	raw, found, perr := parseGQLOrder(data)
	switch {
	case perr != nil:
		return domain.Order{}, transient("fetch_order", "GetOrder: %v", perr)
	case !found:
		return domain.Order{}, permanent("fetch_order", "order %s not found on Shopify", platformOrderID)
	}
	if err := c.moreLines(ctx, conn, s, "fetch_order", gid, gqlLinesCursor(data), &raw); err != nil {
		return domain.Order{}, err
	}
	o, nerr := normalise(raw, conn, s.currency)
	if nerr != nil {
		return domain.Order{}, permanent("fetch_order", "order %s: %v", platformOrderID, nerr)
	}
	return o, nil
}

// moreLines appends the line items after cursor ("" when there are none) to raw, 100 a
// call with GetOrder.
func (c *Connector) moreLines(ctx context.Context, conn domain.Connection, s settings, op, gid, cursor string, raw *rawOrder) error {
	for page := 0; cursor != ""; page++ {
		if page >= 20 { // 2,000 more lines: a runaway cursor, not an order
			return permanent(op, "order %s: more than 2000 line items", numericID(gid))
		}
		data, err := c.graphql(ctx, conn, s, gqlRequest{op: op, operation: "GetOrder", query: getOrderQuery,
			vars: map[string]any{"id": gid, "after": cursor}, cost: getOrderCost})
		if data == nil {
			return err
		}
		got, found, perr := parseGQLOrder(data)
		switch {
		case perr != nil:
			return transient(op, "GetOrder: %v", perr)
		case !found:
			return permanent(op, "order %s not found on Shopify", numericID(gid))
		}
		raw.lines = append(raw.lines, got.lines...)
		cursor = gqlLinesCursor(data)
	}
	return nil
}
