// Package ingest takes ERP change batches: it decodes and validates each change on its
// own (a bad item never costs the good ones), applies the good ones to the per-SKU
// aggregates with version checks, and queues one fan-out message per touched SKU.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Limits of one batch.
const (
	MaxBatchBytes   = 1 << 20
	MaxBatchChanges = 1000
	maxSKULen       = 128
	maxTextLen      = 10000
	// maxNameLen bounds a product's name and its one-line fields (brand, category,
	// supplier, attribute values): longer than any store's title field.
	maxNameLen = 500
	// maxCodes, maxImages and maxAttributes bound a product's lists.
	maxCodes      = 50
	maxImages     = 50
	maxAttributes = 100
	// MaxVersion is the largest version accepted: 2^53−1, the largest integer every JSON
	// parser reads exactly. It holds a sequence or a Unix time in ms or µs; a bigger one
	// (2^63−1, a time in ns) is refused, because once stored it would make every later
	// change of the SKU "older" for good.
	MaxVersion = 1<<53 - 1
	// DefaultWarehouse is used when a stock change names none.
	DefaultWarehouse = "default"
)

// Kind is a change type.
type Kind string

const (
	KindStock   Kind = "stock"
	KindPrice   Kind = "price"
	KindProduct Kind = "product"
	// KindCustomer is a customer from the ERP, keyed by customer_id instead of sku.
	KindCustomer Kind = "customer"
	// KindOrderStatus is the ERP's fulfilment status of a hub order, keyed by order_id.
	KindOrderStatus Kind = "order_status"
)

// kindsText lists the change types for error messages.
const kindsText = "one of stock, price, product, customer, order_status"

// Change is one validated ERP change.
type Change struct {
	Index   int
	Kind    Kind
	SKU     string
	Version domain.Version
	Stock   *domain.StockLevel
	Price   *domain.PriceInfo
	Product *domain.Product
	// CustomerID and Customer are set on customer changes (SKU is then empty).
	CustomerID string
	Customer   *domain.Customer
	// OrderStatus is set on order_status changes (SKU is then empty).
	OrderStatus *domain.OrderStatusChange
}

// Rejection names a bad item and field with a readable reason.
type Rejection struct {
	Index int    `json:"index"`
	SKU   string `json:"sku,omitempty"`
	// CustomerID names the customer of a rejected customer change.
	CustomerID string `json:"customer_id,omitempty"`
	// OrderID names the order of a rejected order_status change.
	OrderID string `json:"order_id,omitempty"`
	Field   string `json:"field"`
	Error   string `json:"error"`
}

// BatchError is a batch-level failure (malformed JSON, too many items): nothing was applied.
// Field names the offending member of the envelope; "" means the body as a whole.
type BatchError struct{ Field, Msg string }

func (e *BatchError) Error() string { return e.Msg }

// rawChange mirrors the wire shape loosely so each field can be checked and named.
type rawChange struct {
	Type            *string           `json:"type"`
	SKU             *string           `json:"sku"`
	Version         json.RawMessage   `json:"version"`
	Warehouse       *string           `json:"warehouse"`
	Quantity        json.RawMessage   `json:"quantity"`
	Price           json.RawMessage   `json:"price"`
	Cost            json.RawMessage   `json:"cost"`
	ListPrice       json.RawMessage   `json:"list_price"`
	Currency        *string           `json:"currency"`
	Name            *string           `json:"name"`
	EAN             *string           `json:"ean"`
	AdditionalCodes []string          `json:"additional_codes"`
	Description     *string           `json:"description"`
	Brand           *string           `json:"brand"`
	Category        *string           `json:"category"`
	Supplier        *string           `json:"supplier"`
	Images          []string          `json:"images"`
	Attributes      map[string]string `json:"attributes"`
	WeightGrams     json.RawMessage   `json:"weight_grams"`
	Publish         *bool             `json:"publish"`
	SyncStock       *bool             `json:"sync_stock"`
	// Customer fields (name is shared with products).
	CustomerID  *string         `json:"customer_id"`
	CompanyName *string         `json:"company_name"`
	TradeName   *string         `json:"trade_name"`
	Document    *string         `json:"document"`
	Email       *string         `json:"email"`
	Phones      json.RawMessage `json:"phones"`
	Address     json.RawMessage `json:"address"`
	// order_status fields.
	OrderID       *string `json:"order_id"`
	Status        *string `json:"status"`
	InvoiceNumber *string `json:"invoice_number"`
	InvoiceKey    *string `json:"invoice_key"`
	InvoiceURL    *string `json:"invoice_url"`
	TrackingCode  *string `json:"tracking_code"`
	TrackingURL   *string `json:"tracking_url"`
	Carrier       *string `json:"carrier"`
}

// Decode parses a batch body. Item-level problems become rejections; only a body that is
// not a JSON object with a "changes" array (or that exceeds the limits) is a BatchError.
func Decode(body []byte, defaultCurrency string) ([]Change, []Rejection, error) {
	if len(body) > MaxBatchBytes {
		return nil, nil, &BatchError{Msg: fmt.Sprintf("body exceeds %d bytes", MaxBatchBytes)}
	}
	var envelope struct {
		Changes []json.RawMessage `json:"changes"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var whole json.RawMessage
	if err := dec.Decode(&whole); err != nil {
		return nil, nil, &BatchError{Msg: "malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, nil, &BatchError{Msg: "malformed JSON: trailing data after the batch object"}
	}
	members, err := objectMembers(whole)
	var me *memberError
	switch {
	case errors.As(err, &me):
		return nil, nil, &BatchError{Field: me.Field, Msg: fmt.Sprintf(`field %q: %s; a batch is {"changes":[…]}`, me.Field, me.Msg)}
	case err != nil || bytes.Equal(bytes.TrimSpace(whole), []byte("null")):
		return nil, nil, &BatchError{Msg: `malformed JSON: a batch is an object {"changes":[…]}`}
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if name != "changes" {
			name = fieldName(name)
			return nil, nil, &BatchError{Field: name, Msg: fmt.Sprintf(`unknown field %q: a batch is {"changes":[…]}`, name)}
		}
	}
	if raw, ok := members["changes"]; ok && json.Unmarshal(raw, &envelope.Changes) != nil {
		return nil, nil, &BatchError{Msg: `malformed JSON: field "changes" must be an array of changes`}
	}
	if envelope.Changes == nil {
		return nil, nil, &BatchError{Msg: `field "changes": required array of changes`}
	}
	if len(envelope.Changes) > MaxBatchChanges {
		return nil, nil, &BatchError{Msg: fmt.Sprintf(`field "changes": %d items, at most %d per batch`, len(envelope.Changes), MaxBatchChanges)}
	}
	var (
		out  []Change
		rejs []Rejection
	)
	for i, raw := range envelope.Changes {
		c, rej := decodeOne(i, raw, defaultCurrency)
		if rej != nil {
			rejs = append(rejs, *rej)
			continue
		}
		out = append(out, c)
	}
	return out, rejs, nil
}

func decodeOne(i int, raw json.RawMessage, currency string) (Change, *Rejection) {
	reject := func(sku, field, format string, args ...any) (Change, *Rejection) {
		return Change{}, &Rejection{Index: i, SKU: sku, Field: field, Error: fmt.Sprintf(format, args...)}
	}
	members, err := objectMembers(raw)
	var me *memberError
	switch {
	case errors.As(err, &me):
		return reject("", fieldName(me.Field), "%s", me.Msg)
	case err != nil:
		return reject("", "item", "invalid item: %s", err)
	}
	var kind Kind
	_ = json.Unmarshal(members["type"], &kind) // a bad type is named below, by the typed decode
	if me := checkMembers(kind, members); me != nil {
		return reject("", me.Field, "%s", me.Msg)
	}
	var r rawChange
	if err := json.Unmarshal(raw, &r); err != nil {
		return reject("", fieldOf(err), "invalid item: %s", plainJSONError(err))
	}
	if r.Type != nil && Kind(*r.Type) == KindCustomer {
		return decodeCustomer(i, r)
	}
	if r.Type != nil && Kind(*r.Type) == KindOrderStatus {
		return decodeOrderStatus(i, r)
	}
	if r.SKU == nil || strings.TrimSpace(*r.SKU) == "" {
		return reject("", "sku", "required")
	}
	sku := strings.TrimSpace(*r.SKU)
	if err := checkKey(sku, maxSKULen); err != nil {
		return reject("", "sku", "%s", err)
	}
	if r.Type == nil {
		return reject(sku, "type", "required: "+kindsText)
	}
	version, err := parseVersion(r.Version)
	if err != nil {
		return reject(sku, "version", "%s", err)
	}
	c := Change{Index: i, Kind: Kind(*r.Type), SKU: sku, Version: version}
	switch c.Kind {
	case KindStock:
		q, err := parseQuantity(r.Quantity)
		if err != nil {
			return reject(sku, "quantity", "%s", err)
		}
		wh := DefaultWarehouse
		if r.Warehouse != nil && strings.TrimSpace(*r.Warehouse) != "" {
			wh = strings.TrimSpace(*r.Warehouse)
		}
		if err := checkKey(wh, maxSKULen); err != nil {
			return reject(sku, "warehouse", "%s", err)
		}
		c.Stock = &domain.StockLevel{Warehouse: wh, Quantity: q, Version: version}
	case KindPrice:
		cur := currency
		if r.Currency != nil {
			cur = strings.ToUpper(strings.TrimSpace(*r.Currency))
			if len(cur) != 3 || strings.IndexFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
				return reject(sku, "currency", "must be a 3-letter ISO code")
			}
			// No connection converts currencies: a price in another currency could
			// never be sold, and a store would refuse it on every push.
			if cur != currency {
				return reject(sku, "currency", "the tenant sells in %s and no connection converts currencies; send the price in %s", currency, currency)
			}
		}
		price, err := parseMoney(r.Price, cur, true)
		if err != nil {
			return reject(sku, "price", "%s", err)
		}
		cost, err := parseMoney(r.Cost, cur, false)
		if err != nil {
			return reject(sku, "cost", "%s", err)
		}
		list, err := parseMoney(r.ListPrice, cur, false)
		if err != nil {
			return reject(sku, "list_price", "%s", err)
		}
		c.Price = &domain.PriceInfo{Price: *price, Cost: cost, List: list, Version: version}
	case KindProduct:
		p, field, err := productOf(sku, version, r)
		if err != nil {
			return reject(sku, field, "%s", err)
		}
		c.Product = p
	default:
		return reject(sku, "type", "unknown change type %q: %s", *r.Type, kindsText)
	}
	return c, nil
}

func productOf(sku string, v domain.Version, r rawChange) (*domain.Product, string, error) {
	if r.Name == nil || strings.TrimSpace(*r.Name) == "" {
		return nil, "name", fmt.Errorf("required")
	}
	p := &domain.Product{SKU: sku, Name: strings.TrimSpace(*r.Name), Version: v, Publish: true, SyncStock: true}
	if err := checkLine(p.Name, maxNameLen); err != nil {
		return nil, "name", err
	}
	for _, f := range []struct {
		name      string
		src       *string
		dst       *string
		max       int
		multiline bool
	}{{"ean", r.EAN, &p.EAN, maxNameLen, false}, {"description", r.Description, &p.Description, maxTextLen, true},
		{"brand", r.Brand, &p.Brand, maxNameLen, false}, {"category", r.Category, &p.Category, maxNameLen, false},
		{"supplier", r.Supplier, &p.Supplier, maxNameLen, false}} {
		if f.src == nil {
			continue
		}
		*f.dst = strings.TrimSpace(*f.src)
		if err := checkText(*f.dst, f.max, f.multiline); err != nil {
			return nil, f.name, err
		}
	}
	if p.EAN != "" && !isGTIN(p.EAN) {
		return nil, "ean", fmt.Errorf("must be a GTIN: 8, 12, 13 or 14 digits, got %q", truncate(p.EAN))
	}
	codes, err := additionalCodes(r.AdditionalCodes)
	if err != nil {
		return nil, "additional_codes", err
	}
	p.AdditionalCodes = codes
	if len(r.Images) > maxImages {
		return nil, "images", fmt.Errorf("at most %d images, got %d", maxImages, len(r.Images))
	}
	for n, img := range r.Images {
		if err := checkImage(img); err != nil {
			return nil, "images", fmt.Errorf("item %d: %w", n, err)
		}
	}
	p.Images = r.Images
	if len(r.Attributes) > maxAttributes {
		return nil, "attributes", fmt.Errorf("at most %d attributes, got %d", maxAttributes, len(r.Attributes))
	}
	for k, val := range r.Attributes {
		if strings.TrimSpace(k) == "" {
			return nil, "attributes", fmt.Errorf("names must not be blank")
		}
		if err := checkLine(k, maxSKULen); err != nil {
			return nil, "attributes", fmt.Errorf("name %q: %w", truncate(k), err)
		}
		if err := checkLine(val, maxNameLen); err != nil {
			return nil, "attributes", fmt.Errorf("value of %q: %w", truncate(k), err)
		}
	}
	p.Attributes = r.Attributes
	if len(r.WeightGrams) > 0 {
		w, err := parseQuantity(r.WeightGrams)
		if err != nil {
			return nil, "weight_grams", err
		}
		p.WeightGrams = w
	}
	if r.Publish != nil {
		p.Publish = *r.Publish
	}
	if r.SyncStock != nil {
		p.SyncStock = *r.SyncStock
	}
	return p, "", nil
}

// isGTIN accepts the lengths an EAN/UPC/GTIN comes in: 8, 12, 13 or 14 digits.
func isGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
		return allDigits(s)
	}
	return false
}

// additionalCodes checks a product's other codes (supplier and old SKUs, other EANs):
// first sync matches platform products by them, so each follows the SKU rules.
func additionalCodes(codes []string) ([]string, error) {
	if len(codes) > maxCodes {
		return nil, fmt.Errorf("at most %d codes, got %d", maxCodes, len(codes))
	}
	out := make([]string, 0, len(codes))
	for n, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, fmt.Errorf("item %d is blank", n)
		}
		if err := checkKey(c, maxSKULen); err != nil {
			return nil, fmt.Errorf("item %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkImage accepts an absolute http(s) URL (checkURL): stores download it as given.
func checkImage(s string) error {
	if s == "" {
		return fmt.Errorf("must be an absolute http or https URL, got an empty string")
	}
	return checkURL(s)
}

// parseVersion accepts a non-negative integer as a JSON number or a string of digits.
func parseVersion(raw json.RawMessage) (domain.Version, error) {
	s, err := scalarText(raw)
	if err != nil {
		return 0, fmt.Errorf("required: the ERP's monotonic version (integer)")
	}
	if !allDigits(s) {
		return 0, fmt.Errorf("must be a non-negative integer, got %s", truncate(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxVersion {
		return 0, fmt.Errorf("must be at most %d (2^53−1), got %s", int64(MaxVersion), truncate(s))
	}
	return domain.Version(n), nil
}

func parseQuantity(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("required")
	}
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		return 0, fmt.Errorf("must be a number, got a string")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("must be a number, got %s", truncate(s))
	}
	if d.IsNegative() {
		return 0, fmt.Errorf("must not be negative, got %s", s)
	}
	if !d.IsInteger() {
		return 0, fmt.Errorf("must be a whole number, got %s", s)
	}
	if d.GreaterThan(decimal.NewFromInt(1_000_000_000_000)) {
		return 0, fmt.Errorf("too large: %s", truncate(s))
	}
	return d.IntPart(), nil
}

// parseMoney accepts a decimal as a JSON string or number, read from its literal text
// (never through float64).
func parseMoney(raw json.RawMessage, currency string, required bool) (*domain.Money, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return nil, fmt.Errorf("required")
		}
		return nil, nil
	}
	s, err := scalarText(raw)
	if err != nil {
		return nil, fmt.Errorf("must be a decimal number")
	}
	amount, err := domain.ParseAmount(s)
	if err != nil {
		return nil, err
	}
	if amount.GreaterThan(decimal.NewFromInt(1_000_000_000)) {
		return nil, fmt.Errorf("too large: %s", truncate(s))
	}
	return &domain.Money{Amount: amount, Currency: currency}, nil
}

// scalarText returns the text of a JSON number or string.
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw), nil
	}
	return "", fmt.Errorf("not a number")
}

func fieldOf(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return te.Field
	}
	return "item"
}

func plainJSONError(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("field %q must be %s, got %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
