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
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Field names every change type takes, besides its own (fieldsOf).
var commonFields = []string{"type", "version"}

// fieldsOf lists the members each change type takes. Anything else is refused by name:
// encoding/json would drop it silently, so a typo ("warehous") would change what the
// item means (stock sent to the default warehouse) instead of failing.
var fieldsOf = map[Kind][]string{
	KindStock: {"sku", "quantity", "warehouse"},
	KindPrice: {"sku", "price", "cost", "list_price", "currency"},
	KindProduct: {"sku", "name", "ean", "additional_codes", "description", "brand", "category", "supplier",
		"images", "attributes", "weight_grams", "publish", "sync_stock"},
	KindCustomer:    {"customer_id", "name", "company_name", "trade_name", "document", "email", "phones", fieldAddress},
	KindOrderStatus: {"order_id", "status", "invoice_number", "invoice_key", "invoice_url", "tracking_code", "tracking_url", "carrier"},
}

// objectMembers reads a JSON object's members, keeping each value's raw bytes. It
// refuses a value that is not an object (null counts as an empty object) and a member
// given twice, which encoding/json would resolve by keeping the last one unnoticed.
func objectMembers(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("must be a JSON object")
	}
	if tok == nil {
		return map[string]json.RawMessage{}, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("must be a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("must be a JSON object: %w", err)
		}
		key, _ := tok.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("must be a JSON object: %w", err)
		}
		if _, dup := out[key]; dup {
			return nil, &memberError{Field: key, Msg: "given twice"}
		}
		out[key] = v
	}
	return out, nil
}

// memberError names the member of an object that is wrong.
type memberError struct{ Field, Msg string }

func (e *memberError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Msg) }

// checkMembers refuses members the change type does not take and values whose text is
// not valid UTF-8 (encoding/json would turn the bad bytes, and lone UTF-16 surrogate
// escapes, into U+FFFD without a word). kind "" checks only the encoding.
func checkMembers(kind Kind, members map[string]json.RawMessage) *memberError {
	allowed, known := fieldsOf[kind]
	names := slices.Sorted(maps.Keys(members)) // the same item always names the same field
	for _, name := range names {
		if !known || slices.Contains(commonFields, name) || slices.Contains(allowed, name) {
			continue
		}
		return &memberError{Field: fieldName(name), Msg: fmt.Sprintf("unknown field for a %s change (it takes %s)",
			kind, strings.Join(append(append([]string{}, commonFields...), allowed...), ", "))}
	}
	for _, name := range names {
		if err := checkEncoding(members[name]); err != nil {
			return &memberError{Field: fieldName(name), Msg: err.Error()}
		}
	}
	return nil
}

// fieldName makes a member name fit to echo back: at most 64 bytes of valid UTF-8,
// and `""` for the empty name (a rejection always names its field).
func fieldName(name string) string {
	if name == "" {
		return `""`
	}
	name = strings.ToValidUTF8(name, "\uFFFD")
	if len(name) <= 64 {
		return name
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}

// checkEncoding reports raw JSON text whose strings would not decode exactly: bytes
// that are not UTF-8, or a \uD800–\uDFFF escape that is not half of a surrogate pair.
// raw is known to be valid JSON, so a backslash only ever starts an escape in a string.
func checkEncoding(raw []byte) error {
	if !utf8.Valid(raw) {
		return errors.New("is not valid UTF-8")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r, ok := hexRune(raw, i+2)
		if !ok {
			return errors.New("has a malformed \\u escape")
		}
		i += 5
		if !utf16.IsSurrogate(r) {
			continue
		}
		if r < 0xDC00 && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
			if low, ok := hexRune(raw, i+3); ok && low >= 0xDC00 && low <= 0xDFFF {
				i += 6
				continue
			}
		}
		return fmt.Errorf("is not valid UTF-8 (lone surrogate \\u%04X)", r)
	}
	return nil
}

func hexRune(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[at:at+4]), 16, 16)
	return rune(n), err == nil
}

// checkKey checks an identifier (SKU, customer or order id, warehouse, additional code):
// valid UTF-8 of at most max bytes, no '#' (the store's key separator), and nothing a
// person cannot see or that changes how it reads: control characters, line breaks,
// whitespace other than a plain space, and invisible formatting such as bidi marks.
func checkKey(s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.Contains(s, "#") {
		return fmt.Errorf("must be valid UTF-8 of at most %d bytes without '#'", max)
	}
	for i, r := range s {
		if invisible(r) || (unicode.IsSpace(r) && r != ' ') {
			return fmt.Errorf("must not contain control characters, line breaks or invisible formatting marks; found U+%04X at byte %d", r, i)
		}
	}
	return nil
}

// checkLine checks one line of text (a name, a brand): at most max bytes, valid UTF-8,
// no control characters or line breaks. Formatting marks stay allowed: right-to-left
// text needs them.
func checkLine(s string, max int) error {
	return checkText(s, max, false)
}

// checkText is checkLine that allows tabs and line breaks when multiline is set.
func checkText(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("at most %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for i, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("must not contain control characters or line breaks; found U+%04X at byte %d", r, i)
		}
	}
	return nil
}

// invisible reports control characters (C0, DEL, C1), line and paragraph separators,
// format characters (bidi embeddings and overrides, zero-width joiners, BOM) and the
// replacement character, which only ever stands for data already lost.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
}
