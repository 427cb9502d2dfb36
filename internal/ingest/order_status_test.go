package ingest

import (
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
)

func TestDecodeOrderStatus(t *testing.T) {
	long := strings.Repeat("x", maxURLLen)
	tests := []struct {
		name      string
		item      string
		wantField string // "" when the item is valid
		wantErr   string
	}{
		{"invoiced", `{"type":"order_status","order_id":"ord_a","version":12,"status":"invoiced","invoice_number":"123","invoice_key":"3526","invoice_url":"https://nf.example/123"}`, "", ""},
		{"shipped", `{"type":"order_status","order_id":"ord_a","version":"13","status":"shipped","tracking_code":"BR1","tracking_url":"http://t.example/BR1","carrier":"Correios"}`, "", ""},
		{"delivered bare", `{"type":"order_status","order_id":"ord_a","version":14,"status":"delivered"}`, "", ""},
		{"cancelled, status in capitals", `{"type":"order_status","order_id":"ord_a","version":15,"status":"CANCELLED"}`, "", ""},
		{"missing order_id", `{"type":"order_status","version":1,"status":"delivered"}`, "order_id", "required"},
		{"blank order_id", `{"type":"order_status","order_id":"  ","version":1,"status":"delivered"}`, "order_id", "required"},
		{"order_id too long", `{"type":"order_status","order_id":"` + strings.Repeat("o", 129) + `","version":1,"status":"delivered"}`, "order_id", "at most 128"},
		{"order_id with hash", `{"type":"order_status","order_id":"ord#1","version":1,"status":"delivered"}`, "order_id", "'#'"},
		{"order_id not a string", `{"type":"order_status","order_id":7,"version":1,"status":"delivered"}`, "order_id", "must be string"},
		{"missing version", `{"type":"order_status","order_id":"ord_a","status":"delivered"}`, "version", "required"},
		{"negative version", `{"type":"order_status","order_id":"ord_a","version":-2,"status":"delivered"}`, "version", "non-negative"},
		{"missing status", `{"type":"order_status","order_id":"ord_a","version":1}`, "status", "required"},
		{"unknown status", `{"type":"order_status","order_id":"ord_a","version":1,"status":"paid"}`, "status", "unknown status"},
		{"invoiced without number", `{"type":"order_status","order_id":"ord_a","version":1,"status":"invoiced","invoice_key":"k"}`, "invoice_number", "required when status is invoiced"},
		{"invoiced with blank number", `{"type":"order_status","order_id":"ord_a","version":1,"status":"invoiced","invoice_number":" "}`, "invoice_number", "required"},
		{"shipped without tracking", `{"type":"order_status","order_id":"ord_a","version":1,"status":"shipped","carrier":"x"}`, "tracking_code", "required when status is shipped"},
		{"invoice_url ftp", `{"type":"order_status","order_id":"ord_a","version":1,"status":"invoiced","invoice_number":"1","invoice_url":"ftp://nf.example/1"}`, "invoice_url", "http or https"},
		{"invoice_url relative", `{"type":"order_status","order_id":"ord_a","version":1,"status":"invoiced","invoice_number":"1","invoice_url":"/nf/1"}`, "invoice_url", "http or https"},
		{"tracking_url javascript", `{"type":"order_status","order_id":"ord_a","version":1,"status":"shipped","tracking_code":"T","tracking_url":"javascript:alert(1)"}`, "tracking_url", "http or https"},
		{"tracking_url too long", `{"type":"order_status","order_id":"ord_a","version":1,"status":"shipped","tracking_code":"T","tracking_url":"https://t.example/` + long + `"}`, "tracking_url", "at most 2048"},
		{"carrier too long", `{"type":"order_status","order_id":"ord_a","version":1,"status":"delivered","carrier":"` + strings.Repeat("c", maxFieldLen+1) + `"}`, "carrier", "at most"},
		{"tracking_code not a string", `{"type":"order_status","order_id":"ord_a","version":1,"status":"shipped","tracking_code":5}`, "tracking_code", "must be string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := `{"type":"stock","sku":"GOOD","version":1,"quantity":1}`
			changes, rejs, err := Decode([]byte(`{"changes":[`+good+`,`+tt.item+`]}`), "BRL")
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
				c := changes[1]
				if c.Kind != KindOrderStatus || c.OrderStatus == nil || c.SKU != "" || c.OrderStatus.Version != c.Version {
					t.Fatalf("decoded as %+v", c)
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

func TestDecodeOrderStatusValues(t *testing.T) {
	body := `{"changes":[{"type":"order_status","order_id":" ord_a ","version":"12","status":" Shipped ",
		"invoice_number":"123","tracking_code":" BR1 ","tracking_url":"https://t.example/BR1","carrier":"Correios"}]}`
	changes, rejs, err := Decode([]byte(body), "BRL")
	if err != nil || len(rejs) != 0 {
		t.Fatalf("err %v rejs %+v", err, rejs)
	}
	want := domain.OrderStatusChange{OrderID: "ord_a", Status: domain.FulfilShipped, Version: 12,
		Update: domain.OrderStatusUpdate{InvoiceNumber: "123", TrackingCode: "BR1", TrackingURL: "https://t.example/BR1", Carrier: "Correios"}}
	if got := *changes[0].OrderStatus; got != want {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}
}
