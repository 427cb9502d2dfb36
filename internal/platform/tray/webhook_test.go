package tray

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func webhookConn(appCode string) domain.Connection {
	s := map[string]string{"api_address": "http://127.0.0.1:1/s/web_api", "store_id": "391250"}
	if appCode != "" {
		s["app_code"] = appCode
	}
	return domain.Connection{ID: "c1", Platform: Name, Settings: s}
}

func TestVerifyWebhook(t *testing.T) {
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	good := "seller_id=391250&scope_id=4375797&scope_name=order&act=update&app_code=718&url_notification=https%3A%2F%2Fx"
	tests := []struct {
		name    string
		app     string
		header  http.Header
		body    string
		want    platform.WebhookEvent
		kind    platform.Kind
		wantErr string
		// field is set when the delivery is verified but does not parse.
		field string
		// malformed names the field when the delivery cannot be checked at all (400, or
		// 413 when tooLarge), which is not a failed check.
		malformed string
		tooLarge  bool
	}{
		{name: "form", header: form, body: good,
			want: platform.WebhookEvent{Topic: "order/update", Resource: "order", ResourceID: "4375797"}},
		{name: "form with app_code check", app: "718", header: form, body: good,
			want: platform.WebhookEvent{Topic: "order/update", Resource: "order", ResourceID: "4375797"}},
		{name: "json with numbers", header: jsonH, body: `{"seller_id":391250,"scope_id":12,"scope_name":"product_stock","act":"insert"}`,
			want: platform.WebhookEvent{Topic: "product_stock/insert", Resource: "product_stock", ResourceID: "12"}},
		{name: "json without content type", header: http.Header{}, body: ` {"seller_id":"391250","scope_id":"9","scope_name":"variant","act":"delete"}`,
			want: platform.WebhookEvent{Topic: "variant/delete", Resource: "variant", ResourceID: "9"}},
		{name: "wrong seller_id", header: form, body: strings.Replace(good, "391250", "1", 1), kind: platform.Auth, wantErr: "seller_id"},
		{name: "wrong app_code", app: "999", header: form, body: good, kind: platform.Auth, wantErr: "app_code"},
		{name: "missing seller_id", header: form, body: "scope_id=1&scope_name=order&act=update", malformed: "seller_id", wantErr: "missing"},
		{name: "missing app_code when the connection checks it", app: "718", header: form, body: "seller_id=391250&scope_id=1&scope_name=order&act=update", malformed: "app_code", wantErr: "missing"},
		{name: "missing scope_id", header: form, body: "seller_id=391250&scope_name=order&act=update", field: "scope_id", wantErr: "missing"},
		{name: "missing act", header: form, body: "seller_id=391250&scope_id=1&scope_name=order", field: "act", wantErr: "missing"},
		{name: "unknown act", header: form, body: "seller_id=391250&scope_id=1&scope_name=order&act=explode", field: "act", wantErr: "must be"},
		{name: "bad scope_id", header: form, body: "seller_id=391250&scope_id=..%2F1&scope_name=order&act=update", field: "scope_id", wantErr: "not a number"},
		{name: "scope_id not a number", header: jsonH, body: `{"seller_id":391250,"scope_id":"abc","scope_name":"order","act":"update"}`, field: "scope_id", wantErr: "not a number"},
		{name: "bad scope_name", header: form, body: "seller_id=391250&scope_id=1&scope_name=Order%21&act=update", field: "scope_name", wantErr: "not a Tray scope"},
		// Not verified yet: a wrong store's broken body is refused, never stored.
		{name: "wrong seller_id and no scope_id", header: form, body: "seller_id=1&scope_name=order&act=update", kind: platform.Auth, wantErr: "seller_id"},
		{name: "wrong app_code and bad act", app: "999", header: form, body: "seller_id=391250&scope_id=1&scope_name=order&act=x&app_code=718", kind: platform.Auth, wantErr: "app_code"},
		{name: "empty body", header: form, body: "", malformed: "body", wantErr: "empty body"},
		{name: "broken json", header: jsonH, body: `{"seller_id":`, malformed: "body", wantErr: "not a JSON object"},
		{name: "broken form", header: form, body: "seller_id=%zz", malformed: "body", wantErr: "not form-encoded"},
		{name: "huge body", header: form, body: good + "&pad=" + strings.Repeat("x", MaxWebhookBody), malformed: "body", tooLarge: true, wantErr: "exceed"},
	}
	c := New(&memSecrets{}, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := c.VerifyWebhook(context.Background(), webhookConn(tt.app), platform.WebhookRequest{Header: tt.header, Body: []byte(tt.body)})
			var ue *platform.UnparseableError
			if tt.field != "" {
				if !errors.As(err, &ue) || ue.Field != tt.field || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want unparseable field %s with %q", err, tt.field, tt.wantErr)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Fatalf("got unparseable %v before verification", err)
			}
			var me *platform.MalformedError
			if tt.malformed != "" {
				if !errors.As(err, &me) || me.Field != tt.malformed || me.TooLarge != tt.tooLarge || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want malformed field %s (too large: %v) with %q", err, tt.malformed, tt.tooLarge, tt.wantErr)
				}
				return
			}
			if errors.As(err, &me) {
				t.Fatalf("got malformed %v, want %v", err, tt.kind)
			}
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %v error with %q", err, tt.kind, tt.wantErr)
				}
				return
			}
			if err != nil || ev != tt.want {
				t.Fatalf("got %+v, %v; want %+v", ev, err, tt.want)
			}
		})
	}
	t.Run("connection without store_id", func(t *testing.T) {
		conn := webhookConn("")
		delete(conn.Settings, "store_id")
		if _, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Body: []byte(good)}); err == nil || !strings.Contains(err.Error(), "store_id") {
			t.Fatalf("got %v", err)
		}
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("seller_id=391250&scope_id=4375797&scope_name=order&act=update&app_code=718"))
	f.Add("application/json", []byte(`{"seller_id":391250,"scope_id":"1","scope_name":"order","act":"insert"}`))
	f.Add("", []byte(`{"seller_id":[1],"scope_id":{"a":1},"scope_name":null,"act":true}`))
	f.Add("", []byte("seller_id=%ff%fe&act=\x00"))
	c := New(&memSecrets{}, Options{})
	conn := webhookConn("718")
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: http.Header{"Content-Type": {ct}}, Body: body})
		if err == nil && (ev.ResourceID == "" || ev.Resource == "" || !strings.HasPrefix(ev.Topic, ev.Resource+"/")) {
			t.Fatalf("accepted an incomplete event %+v", ev)
		}
		var ue *platform.UnparseableError
		var me *platform.MalformedError
		if err != nil && !errors.As(err, &ue) && !errors.As(err, &me) && platform.AsError(err).Platform != Name {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
