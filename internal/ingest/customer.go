package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/ponte-hub/ponte/internal/domain"
)

const (
	maxPhones    = 20
	maxFieldLen  = 500
	maxPhoneLen  = 40
	maxDocLen    = 40
	maxEmailLen  = 254
	fieldAddress = "address"
)

// addressFields are the keys of a customer's address object, in wire order.
var addressFields = []string{"street", "number", "complement", "neighborhood", "city", "state", "postal_code", "country"}

// decodeCustomer validates a customer change: customer_id is its key (same rules as a
// SKU), every error names its field.
func decodeCustomer(i int, r rawChange) (Change, *Rejection) {
	var id string
	reject := func(field, format string, args ...any) (Change, *Rejection) {
		return Change{}, &Rejection{Index: i, CustomerID: id, Field: field, Error: fmt.Sprintf(format, args...)}
	}
	if r.CustomerID == nil || strings.TrimSpace(*r.CustomerID) == "" {
		return reject("customer_id", "required")
	}
	id = strings.TrimSpace(*r.CustomerID)
	if err := checkKey(id, maxSKULen); err != nil {
		id = ""
		return reject("customer_id", "%s", err)
	}
	version, err := parseVersion(r.Version)
	if err != nil {
		return reject("version", "%s", err)
	}
	c := domain.Customer{ExternalID: id}
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
		max  int
	}{{"name", r.Name, &c.Name, maxFieldLen}, {"company_name", r.CompanyName, &c.CompanyName, maxFieldLen},
		{"trade_name", r.TradeName, &c.TradeName, maxFieldLen}, {"document", r.Document, &c.Document, maxDocLen},
		{"email", r.Email, &c.Email, maxEmailLen}} {
		if f.src == nil {
			continue
		}
		*f.dst = strings.TrimSpace(*f.src)
		if err := checkLine(*f.dst, f.max); err != nil {
			return reject(f.name, "%s", err)
		}
	}
	if c.Name == "" && c.CompanyName == "" {
		return reject("name", "required unless company_name is given")
	}
	if c.Email != "" && (!strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " \t\r\n")) {
		return reject("email", "must be an e-mail address")
	}
	if c.Document != "" && !documentChars(c.Document) {
		return reject("document", "must contain only digits and punctuation (CPF, CNPJ or VAT id)")
	}
	phones, err := parsePhones(r.Phones)
	if err != nil {
		return reject("phones", "%s", err)
	}
	c.Phones = phones
	addr, field, err := parseAddress(r.Address)
	if err != nil {
		return reject(field, "%s", err)
	}
	c.Address = addr
	return Change{Index: i, Kind: KindCustomer, Version: version, CustomerID: id, Customer: &c}, nil
}

// documentChars reports whether s holds at least one digit and otherwise only
// punctuation and spaces ("12.345.678/0001-95").
func documentChars(s string) bool {
	digit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r == ' ' || (r < unicode.MaxASCII && unicode.IsPunct(r)):
		default:
			return false
		}
	}
	return digit
}

func parsePhones(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("must be an array of strings")
	}
	if len(list) > maxPhones {
		return nil, fmt.Errorf("at most %d phones", maxPhones)
	}
	var out []string
	for n, item := range list {
		var p string
		if err := json.Unmarshal(item, &p); err != nil {
			return nil, fmt.Errorf("item %d must be a string", n)
		}
		p = strings.TrimSpace(p)
		if err := checkLine(p, maxPhoneLen); err != nil {
			return nil, fmt.Errorf("item %d: %w", n, err)
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// parseAddress reads an object of strings; the field of an error is "address" or
// "address.<key>".
func parseAddress(raw json.RawMessage) (*domain.Address, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "", nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fieldAddress, fmt.Errorf("must be an object of strings")
	}
	for k := range m {
		if !slices.Contains(addressFields, k) {
			return nil, fieldAddress + "." + fieldName(k), fmt.Errorf("unknown field (an address takes %s)", strings.Join(addressFields, ", "))
		}
	}
	vals := make(map[string]string, len(addressFields))
	for _, k := range addressFields {
		v, ok := m[k]
		if !ok || string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return nil, fieldAddress + "." + k, fmt.Errorf("must be a string")
		}
		str = strings.TrimSpace(str)
		if err := checkLine(str, maxFieldLen); err != nil {
			return nil, fieldAddress + "." + k, err
		}
		vals[k] = str
	}
	a := &domain.Address{Street: vals["street"], Number: vals["number"], Complement: vals["complement"],
		Neighborhood: vals["neighborhood"], City: vals["city"], State: vals["state"],
		PostalCode: vals["postal_code"], Country: vals["country"]}
	if *a == (domain.Address{}) {
		return nil, "", nil
	}
	return a, "", nil
}
