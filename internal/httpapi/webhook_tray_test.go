package httpapi_test

import (
	"strings"
	"testing"
)

// TestTrayWebhookRefusals posts Tray notifications to a real hub (connection acme-tray-1,
// store_id 1): a delivery too large or too incomplete to be checked is a 413 or a 400
// naming the field, not a 401; only a seller_id (or app_code) naming another store is a
// failed check; a checked delivery that does not parse is kept (200, unparsed).
func TestTrayWebhookRefusals(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
		field  string // error answers name it
	}{
		{"over Tray's 64 KiB", "seller_id=1&scope_name=order&scope_id=5&act=update&pad=" + strings.Repeat("x", 64<<10), form, 413, "body"},
		{"empty body", "", form, 400, "body"},
		{"JSON that does not parse", `{"seller_id":`, "application/json", 400, "body"},
		{"no seller_id", "scope_name=order&scope_id=5&act=update", form, 400, "seller_id"},
		{"blank seller_id", "seller_id=%20&scope_name=order&scope_id=5&act=update", form, 400, "seller_id"},
		{"another store's seller_id", "seller_id=2&scope_name=order&scope_id=5&act=update", form, 401, "signature"},
		{"checked, without scope_id", "seller_id=1&scope_name=order&act=update", form, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(t, req{Path: "/v1/webhooks/tray/" + connA, Body: tc.body,
				Header: map[string]string{"Content-Type": tc.ctype}})
			if rec.Code != tc.status {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == 200 {
				if !strings.Contains(rec.Body.String(), `"unparsed"`) {
					t.Errorf("answer %s does not say the delivery was kept unparsed", rec.Body)
				}
				return
			}
			if eb := errorBody(t, rec); eb.Field != tc.field {
				t.Errorf("error %+v, want it to name %s", eb, tc.field)
			}
		})
	}
}
