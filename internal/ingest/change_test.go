package ingest

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeItems(t *testing.T) {
	tests := []struct {
		name      string
		item      string
		wantField string // "" when the item is valid
		wantErr   string
	}{
		{"stock ok", `{"type":"stock","sku":"A","version":3,"quantity":5}`, "", ""},
		{"stock version as string", `{"type":"stock","sku":"A","version":"17","quantity":5,"warehouse":"sp"}`, "", ""},
		{"stock zero", `{"type":"stock","sku":"A","version":0,"quantity":0}`, "", ""},
		{"stock quantity 5.0 is whole", `{"type":"stock","sku":"A","version":1,"quantity":5.0}`, "", ""},
		{"price string", `{"type":"price","sku":"A","version":1,"price":"19.9999","cost":"10","list_price":"25.00"}`, "", ""},
		{"price number literal", `{"type":"price","sku":"A","version":1,"price":19.90}`, "", ""},
		{"product ok", `{"type":"product","sku":"A","version":1,"name":"Mug","ean":"7891234567895","publish":false}`, "", ""},
		{"missing sku", `{"type":"stock","version":1,"quantity":1}`, "sku", "required"},
		{"blank sku", `{"type":"stock","sku":"  ","version":1,"quantity":1}`, "sku", "required"},
		{"sku with hash", `{"type":"stock","sku":"A#B","version":1,"quantity":1}`, "sku", "'#'"},
		{"sku too long", `{"type":"stock","sku":"` + strings.Repeat("x", 129) + `","version":1,"quantity":1}`, "sku", "at most"},
		{"sku not a string", `{"type":"stock","sku":12,"version":1,"quantity":1}`, "sku", "must be string"},
		{"missing type", `{"sku":"A","version":1}`, "type", "required"},
		{"unknown type", `{"type":"discount","sku":"A","version":1}`, "type", "unknown change type"},
		{"missing version", `{"type":"stock","sku":"A","quantity":1}`, "version", "required"},
		{"negative version", `{"type":"stock","sku":"A","version":-1,"quantity":1}`, "version", "non-negative integer"},
		{"fractional version", `{"type":"stock","sku":"A","version":1.5,"quantity":1}`, "version", "non-negative integer"},
		{"timestamp version", `{"type":"stock","sku":"A","version":"2026-01-01T00:00:00Z","quantity":1}`, "version", "non-negative integer"},
		{"negative quantity", `{"type":"stock","sku":"A","version":1,"quantity":-3}`, "quantity", "must not be negative"},
		{"string quantity", `{"type":"stock","sku":"A","version":1,"quantity":"7"}`, "quantity", "must be a number"},
		{"fractional quantity", `{"type":"stock","sku":"A","version":1,"quantity":2.5}`, "quantity", "whole number"},
		{"missing quantity", `{"type":"stock","sku":"A","version":1}`, "quantity", "required"},
		{"boolean quantity", `{"type":"stock","sku":"A","version":1,"quantity":true}`, "quantity", "must be a number"},
		{"huge quantity", `{"type":"stock","sku":"A","version":1,"quantity":1e30}`, "quantity", "too large"},
		{"price five decimals", `{"type":"price","sku":"A","version":1,"price":"1.12345"}`, "price", "more than 4 decimals"},
		{"price negative", `{"type":"price","sku":"A","version":1,"price":"-1"}`, "price", "negative"},
		{"price missing", `{"type":"price","sku":"A","version":1}`, "price", "required"},
		{"price garbage", `{"type":"price","sku":"A","version":1,"price":"abc"}`, "price", "not a decimal"},
		{"cost bad", `{"type":"price","sku":"A","version":1,"price":"1","cost":"x"}`, "cost", "not a decimal"},
		{"list price bad", `{"type":"price","sku":"A","version":1,"price":"1","list_price":{}}`, "list_price", "decimal"},
		{"currency bad", `{"type":"price","sku":"A","version":1,"price":"1","currency":"REAL"}`, "currency", "3-letter"},
		{"product no name", `{"type":"product","sku":"A","version":1}`, "name", "required"},
		{"product bad ean", `{"type":"product","sku":"A","version":1,"name":"x","ean":"78-91"}`, "ean", "digits"},
		{"item not an object", `[1,2]`, "item", "invalid item"},
		{"item is null", `null`, "sku", "required"},
		{"item is a string", `"x"`, "item", "JSON object"},
		// Unknown, misspelt and repeated members are named, never dropped.
		{"typo warehous", `{"type":"stock","sku":"A","version":1,"quantity":5,"warehous":"sp"}`, "warehous", "unknown field for a stock change"},
		{"price field on a stock change", `{"type":"stock","sku":"A","version":1,"quantity":5,"price":"1"}`, "price", "unknown field"},
		{"member in another case", `{"type":"stock","SKU":"A","version":1,"quantity":5}`, "SKU", "unknown field"},
		{"member given twice", `{"type":"stock","sku":"A","sku":"B","version":1,"quantity":5}`, "sku", "given twice"},
		{"customer unknown field", `{"type":"customer","customer_id":"C","version":1,"nome":"x"}`, "nome", "unknown field for a customer change"},
		{"address unknown field", `{"type":"customer","customer_id":"C","version":1,"name":"x","address":{"citty":"y"}}`, "address.citty", "unknown field"},
		{"order_status unknown field", `{"type":"order_status","order_id":"ord_1","version":1,"status":"delivered","tracking":"x"}`, "tracking", "unknown field"},
		// Text that would not decode exactly is refused, not turned into U+FFFD.
		{"sku invalid UTF-8", "{\"type\":\"stock\",\"sku\":\"A\xff\",\"version\":1,\"quantity\":1}", "sku", "not valid UTF-8"},
		{"name invalid UTF-8", "{\"type\":\"product\",\"sku\":\"A\",\"version\":1,\"name\":\"caf\xe9\"}", "name", "not valid UTF-8"},
		{"name lone surrogate", `{"type":"product","sku":"A","version":1,"name":"x\ud800"}`, "name", "lone surrogate"},
		{"name low surrogate first", `{"type":"product","sku":"A","version":1,"name":"\udc00\ud800"}`, "name", "lone surrogate"},
		{"name surrogate pair", `{"type":"product","sku":"A","version":1,"name":"mug \ud83d\ude00"}`, "", ""},
		{"name escaped backslash then u", `{"type":"product","sku":"A","version":1,"name":"a\\ud800"}`, "", ""},
		// Identifiers: no control characters, line breaks, odd spaces or bidi marks.
		{"sku newline", `{"type":"stock","sku":"A\n1","version":1,"quantity":1}`, "sku", "control characters"},
		{"sku tab", `{"type":"stock","sku":"A\t1","version":1,"quantity":1}`, "sku", "U+0009"},
		{"sku NUL", `{"type":"stock","sku":"A\u0000","version":1,"quantity":1}`, "sku", "U+0000"},
		{"sku right-to-left override", `{"type":"stock","sku":"A\u202e1","version":1,"quantity":1}`, "sku", "U+202E"},
		{"sku right-to-left mark", `{"type":"stock","sku":"A\u200f","version":1,"quantity":1}`, "sku", "U+200F"},
		{"sku zero-width space", `{"type":"stock","sku":"A\u200b1","version":1,"quantity":1}`, "sku", "U+200B"},
		{"sku no-break space", `{"type":"stock","sku":"A\u00a01","version":1,"quantity":1}`, "sku", "U+00A0"},
		{"sku line separator", `{"type":"stock","sku":"A\u20281","version":1,"quantity":1}`, "sku", "U+2028"},
		{"sku replacement character", `{"type":"stock","sku":"A\ufffd","version":1,"quantity":1}`, "sku", "U+FFFD"},
		{"sku with inner space", `{"type":"stock","sku":"A 1","version":1,"quantity":1}`, "", ""},
		{"sku accented", `{"type":"stock","sku":"CAFÉ-1","version":1,"quantity":1}`, "", ""},
		{"warehouse bell", `{"type":"stock","sku":"A","warehouse":"sp\u0007","version":1,"quantity":1}`, "warehouse", "control characters"},
		{"customer_id bidi", `{"type":"customer","customer_id":"C\u2066","version":1,"name":"x"}`, "customer_id", "U+2066"},
		{"order_id newline", `{"type":"order_status","order_id":"ord_1\r\n","version":1,"status":"delivered"}`, "", ""},
		{"order_id inner newline", `{"type":"order_status","order_id":"ord\n1","version":1,"status":"delivered"}`, "order_id", "control characters"},
		// Product bounds.
		{"name 500 bytes", `{"type":"product","sku":"A","version":1,"name":"` + strings.Repeat("n", 500) + `"}`, "", ""},
		{"name 501 bytes", `{"type":"product","sku":"A","version":1,"name":"` + strings.Repeat("n", 501) + `"}`, "name", "at most 500"},
		{"name with a line break", `{"type":"product","sku":"A","version":1,"name":"a\nb"}`, "name", "line breaks"},
		{"name right-to-left is text", `{"type":"product","sku":"A","version":1,"name":"\u200fكوب"}`, "", ""},
		{"description lines", `{"type":"product","sku":"A","version":1,"name":"x","description":"a\nb\r\n\tc"}`, "", ""},
		{"description escape char", `{"type":"product","sku":"A","version":1,"name":"x","description":"a\u001b[31m"}`, "description", "control"},
		{"brand NUL", `{"type":"product","sku":"A","version":1,"name":"x","brand":"b\u0000"}`, "brand", "control"},
		{"brand too long", `{"type":"product","sku":"A","version":1,"name":"x","brand":"` + strings.Repeat("b", 501) + `"}`, "brand", "at most 500"},
		{"codes ok", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":["OLD-1"," 7891234567895 "]}`, "", ""},
		{"51 codes", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":[` + list(51, `"C"`) + `]}`, "additional_codes", "at most 50"},
		{"code with hash", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":["A#1"]}`, "additional_codes", "item 0"},
		{"blank code", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":["X"," "]}`, "additional_codes", "item 1 is blank"},
		{"code too long", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":["` + strings.Repeat("c", 129) + `"]}`, "additional_codes", "at most 128"},
		{"code not a string", `{"type":"product","sku":"A","version":1,"name":"x","additional_codes":[1]}`, "additional_codes", "must be string"},
		{"images ok", `{"type":"product","sku":"A","version":1,"name":"x","images":["https://cdn.example.com/a.jpg","http://img.example.com/b.png?w=1"]}`, "", ""},
		{"51 images", `{"type":"product","sku":"A","version":1,"name":"x","images":[` + list(51, `"https://e.example/a.jpg"`) + `]}`, "images", "at most 50"},
		{"relative image", `{"type":"product","sku":"A","version":1,"name":"x","images":["/a.jpg"]}`, "images", "absolute http or https"},
		{"javascript image", `{"type":"product","sku":"A","version":1,"name":"x","images":["javascript:alert(1)"]}`, "images", "absolute http or https"},
		{"ftp image", `{"type":"product","sku":"A","version":1,"name":"x","images":["ftp://e.example/a.jpg"]}`, "images", "absolute http or https"},
		{"image with a space", `{"type":"product","sku":"A","version":1,"name":"x","images":["https://e.example/a b.jpg"]}`, "images", "without spaces"},
		{"empty image", `{"type":"product","sku":"A","version":1,"name":"x","images":[""]}`, "images", "empty"},
		{"101 attributes", `{"type":"product","sku":"A","version":1,"name":"x","attributes":{` + attrs(101) + `}}`, "attributes", "at most 100"},
		{"attribute value newline", `{"type":"product","sku":"A","version":1,"name":"x","attributes":{"cor":"a\nb"}}`, "attributes", "line breaks"},
		{"attribute blank name", `{"type":"product","sku":"A","version":1,"name":"x","attributes":{" ":"b"}}`, "attributes", "blank"},
		{"ean 8", `{"type":"product","sku":"A","version":1,"name":"x","ean":"12345670"}`, "", ""},
		{"ean 12", `{"type":"product","sku":"A","version":1,"name":"x","ean":"012345678905"}`, "", ""},
		{"ean 14", `{"type":"product","sku":"A","version":1,"name":"x","ean":"17891234567892"}`, "", ""},
		{"ean 7", `{"type":"product","sku":"A","version":1,"name":"x","ean":"1234567"}`, "ean", "8, 12, 13 or 14 digits"},
		{"ean 11", `{"type":"product","sku":"A","version":1,"name":"x","ean":"12345678901"}`, "ean", "8, 12, 13 or 14 digits"},
		{"ean 15", `{"type":"product","sku":"A","version":1,"name":"x","ean":"123456789012345"}`, "ean", "8, 12, 13 or 14 digits"},
		{"ean non-ASCII digits", `{"type":"product","sku":"A","version":1,"name":"x","ean":"١٢٣٤٥٦٧٨"}`, "ean", "digits"},
		// Versions are bounded so a stray huge one cannot lock a SKU.
		{"version 2^53-1", `{"type":"stock","sku":"A","version":9007199254740991,"quantity":1}`, "", ""},
		{"version 2^53", `{"type":"stock","sku":"A","version":9007199254740992,"quantity":1}`, "version", "at most 9007199254740991"},
		{"version 2^63-1", `{"type":"stock","sku":"A","version":9223372036854775807,"quantity":1}`, "version", "at most"},
		{"version 2^64 as a string", `{"type":"stock","sku":"A","version":"18446744073709551616","quantity":1}`, "version", "at most"},
		{"version with a plus", `{"type":"stock","sku":"A","version":"+5","quantity":1}`, "version", "non-negative integer"},
		{"version exponent", `{"type":"stock","sku":"A","version":1e3,"quantity":1}`, "version", "non-negative integer"},
		// Prices only in the tenant's currency (no connection converts).
		{"currency of the tenant in lower case", `{"type":"price","sku":"A","version":1,"price":"1","currency":"brl"}`, "", ""},
		{"currency of another country", `{"type":"price","sku":"A","version":1,"price":"1","currency":"USD"}`, "currency", "tenant sells in BRL"},
		{"currency not letters", `{"type":"price","sku":"A","version":1,"price":"1","currency":"B1L"}`, "currency", "3-letter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := `{"type":"stock","sku":"GOOD","version":1,"quantity":1}`
			body := `{"changes":[` + good + `,` + tt.item + `]}`
			changes, rejs, err := Decode([]byte(body), "BRL")
			if err != nil {
				t.Fatalf("batch error: %v", err)
			}
			if changes[0].SKU != "GOOD" {
				t.Fatalf("the valid item was lost: %+v", changes)
			}
			if tt.wantField == "" {
				if len(rejs) != 0 || len(changes) != 2 {
					t.Fatalf("want valid, got rejections %+v", rejs)
				}
				return
			}
			if len(rejs) != 1 {
				t.Fatalf("want one rejection, got %+v", rejs)
			}
			r := rejs[0]
			if r.Index != 1 || r.Field != tt.wantField || !strings.Contains(r.Error, tt.wantErr) {
				t.Fatalf("got %+v, want index 1 field %q error containing %q", r, tt.wantField, tt.wantErr)
			}
		})
	}
}

// list repeats item n times, comma-separated.
func list(n int, item string) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// attrs renders n distinct attributes.
func attrs(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`"a%d":"v"`, i)
	}
	return strings.Join(items, ",")
}

func TestDecodeValues(t *testing.T) {
	body := `{"changes":[
		{"type":"price","sku":" A ","version":"9","price":19.9,"cost":"10.5","currency":"brl"},
		{"type":"stock","sku":"A","version":10,"quantity":4}]}`
	changes, rejs, err := Decode([]byte(body), "BRL")
	if err != nil || len(rejs) != 0 {
		t.Fatalf("err %v rejs %+v", err, rejs)
	}
	p := changes[0]
	if p.SKU != "A" || p.Version != 9 || p.Price.Price.String() != "19.90 BRL" || p.Price.Cost.Amount.String() != "10.5" {
		t.Fatalf("price decoded as %+v / %+v", p, p.Price)
	}
	s := changes[1]
	if s.Stock.Warehouse != DefaultWarehouse || s.Stock.Quantity != 4 || s.Stock.Version != 10 {
		t.Fatalf("stock decoded as %+v", s.Stock)
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	many := `{"changes":[` + strings.Repeat(`{},`, MaxBatchChanges) + `{}]}`
	tests := []struct {
		name, body, want string
	}{
		{"not json", `{"changes":[`, "malformed JSON"},
		{"trailing data", `{"changes":[]} {}`, "trailing data"},
		{"no changes", `{"items":[]}`, `"changes"`},
		{"empty object", `{}`, `"changes": required`},
		{"unknown envelope field", `{"changes":[],"source":"erp"}`, `unknown field "source"`},
		{"changes in another case", `{"Changes":[]}`, `unknown field "Changes"`},
		{"changes given twice", `{"changes":[{"type":"stock"}],"changes":[]}`, "given twice"},
		{"null body", `null`, "malformed JSON"},
		{"string body", `"changes"`, "malformed JSON"},
		{"changes not array", `{"changes":{}}`, "malformed JSON"},
		{"too many", many, "at most 1000"},
		{"too big", `{"changes":[` + strings.Repeat(" ", MaxBatchBytes) + `]}`, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode([]byte(tt.body), "BRL")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"changes":[{"type":"stock","sku":"A","version":1,"quantity":5}]}`))
	f.Add([]byte(`{"changes":[{"type":"price","sku":"A","version":"2","price":"1.2345","cost":1e3}]}`))
	f.Add([]byte(`{"changes":[{"type":"product","sku":"A","version":1,"name":"x","attributes":{"a":"b"},"weight_grams":3}]}`))
	f.Add([]byte(`{"changes":[null, 1, "x", [], {"quantity":1e400}]}`))
	f.Add([]byte(`{"changes":[{"type":"customer","customer_id":"C-1","version":1,"name":"x","phones":["1"],"address":{"city":"y"}}]}`))
	f.Add([]byte(`{"changes":[{"type":"order_status","order_id":"ord_1","version":2,"status":"shipped","tracking_code":"BR1","tracking_url":"https://t.example/BR1"}]}`))
	f.Add([]byte(`{"changes":[{"type":"stock","sku":"A","version":1,"quantity":5,"warehous":"sp"}]}`))
	f.Add([]byte("{\"changes\":[{\"type\":\"product\",\"sku\":\"A\xff\",\"version\":1,\"name\":\"x\\ud800\"}]}"))
	f.Add([]byte(`{"changes":[{"type":"product","sku":"A\u202e","version":9223372036854775807,"name":"x","images":["/a"],"ean":"1"}]}`))
	f.Add([]byte(`{"changes":[{"type":"price","sku":"A","sku":"B","version":1,"price":"1","currency":"USD"}],"x":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		changes, rejs, err := Decode(body, "BRL")
		if err != nil {
			return
		}
		for _, r := range rejs {
			if r.Field == "" || r.Error == "" {
				t.Fatalf("rejection without field or reason: %+v", r)
			}
		}
		for _, c := range changes {
			keys := 0
			for _, set := range []bool{c.SKU != "", c.CustomerID != "", c.OrderStatus != nil && c.OrderStatus.OrderID != ""} {
				if set {
					keys++
				}
			}
			if keys != 1 || c.Version < 0 || c.Version > MaxVersion {
				t.Fatalf("invalid change accepted: %+v", c)
			}
			for _, id := range []string{c.SKU, c.CustomerID} {
				if id != "" && checkKey(id, maxSKULen) != nil {
					t.Fatalf("bad key %q accepted", id)
				}
			}
			if c.Stock != nil && checkKey(c.Stock.Warehouse, maxSKULen) != nil {
				t.Fatalf("bad warehouse %q accepted", c.Stock.Warehouse)
			}
			if p := c.Product; p != nil {
				for _, s := range append([]string{p.Name, p.EAN, p.Brand, p.Category, p.Supplier, p.Description}, p.Images...) {
					if !utf8.ValidString(s) {
						t.Fatalf("invalid UTF-8 accepted in %+v", p)
					}
				}
				if p.EAN != "" && !isGTIN(p.EAN) {
					t.Fatalf("EAN %q accepted", p.EAN)
				}
			}
			if c.Price != nil && c.Price.Price.Currency != "BRL" {
				t.Fatalf("price in %s accepted for a BRL tenant", c.Price.Price.Currency)
			}
			if c.Stock != nil && c.Stock.Quantity < 0 {
				t.Fatalf("negative quantity accepted: %+v", c.Stock)
			}
			if c.Price != nil && c.Price.Price.Amount.IsNegative() {
				t.Fatalf("negative price accepted: %+v", c.Price)
			}
		}
	})
}
