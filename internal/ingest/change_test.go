package ingest

import (
	"strings"
	"testing"
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

func TestDecodeValues(t *testing.T) {
	body := `{"changes":[
		{"type":"price","sku":" A ","version":"9","price":19.9,"cost":"10.5","currency":"usd"},
		{"type":"stock","sku":"A","version":10,"quantity":4}]}`
	changes, rejs, err := Decode([]byte(body), "BRL")
	if err != nil || len(rejs) != 0 {
		t.Fatalf("err %v rejs %+v", err, rejs)
	}
	p := changes[0]
	if p.SKU != "A" || p.Version != 9 || p.Price.Price.String() != "19.90 USD" || p.Price.Cost.Amount.String() != "10.5" {
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
			if keys != 1 || c.Version < 0 {
				t.Fatalf("invalid change accepted: %+v", c)
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
