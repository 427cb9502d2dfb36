package nuvemshop

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func webhookConn() (domain.Connection, *Connector) {
	sec := &memSecrets{data: map[string]map[string]string{secretRef: {"access_token": testToken, "app_secret": testSecret}}}
	conn := domain.Connection{ID: "c1", Platform: Name, SecretRef: secretRef,
		Settings: map[string]string{"base_url": "http://127.0.0.1:1/v1", "store_id": testStore}}
	return conn, New(sec, Options{})
}

func signed(body string) http.Header {
	return http.Header{"X-Linkedstore-Hmac-Sha256": {SignWebhook([]byte(body), testSecret)}, "Content-Type": {"application/json"}}
}

func TestVerifyWebhook(t *testing.T) {
	good := `{"store_id":123456,"event":"order/created","id":1467083201}`
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(good))
	b64 := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	huge := `{"store_id":123456,"event":"order/created","id":1,"pad":"` + strings.Repeat("x", MaxWebhookBody) + `"}`
	tests := []struct {
		name    string
		header  http.Header
		body    string
		want    platform.WebhookEvent
		kind    platform.Kind
		wantErr string
		// unparseable is the field a signed but unreadable body names.
		unparseable string
	}{
		{name: "order created", header: signed(good), body: good,
			want: platform.WebhookEvent{Topic: "order/created", Resource: "order", ResourceID: "1467083201"}},
		{name: "upper-case hex signature", header: http.Header{"X-Linkedstore-Hmac-Sha256": {strings.ToUpper(SignWebhook([]byte(good), testSecret))}}, body: good,
			want: platform.WebhookEvent{Topic: "order/created", Resource: "order", ResourceID: "1467083201"}},
		{name: "base64 signature tolerated", header: http.Header{"X-Linkedstore-Hmac-Sha256": {b64}}, body: good,
			want: platform.WebhookEvent{Topic: "order/created", Resource: "order", ResourceID: "1467083201"}},
		{name: "string ids", header: signed(`{"store_id":"123456","event":"product/updated","id":"77"}`), body: `{"store_id":"123456","event":"product/updated","id":"77"}`,
			want: platform.WebhookEvent{Topic: "product/updated", Resource: "product", ResourceID: "77"}},
		{name: "store event without id", header: signed(`{"store_id":123456,"event":"store/redact"}`), body: `{"store_id":123456,"event":"store/redact"}`,
			want: platform.WebhookEvent{Topic: "store/redact", Resource: "store", ResourceID: "123456"}},
		{name: "bad signature", header: http.Header{"X-Linkedstore-Hmac-Sha256": {SignWebhook([]byte(good), "other-secret")}}, body: good, kind: platform.Auth, wantErr: "does not match"},
		{name: "garbage signature", header: http.Header{"X-Linkedstore-Hmac-Sha256": {"zz"}}, body: good, kind: platform.Auth, wantErr: "does not match"},
		{name: "missing header", header: http.Header{}, body: good, kind: platform.Auth, wantErr: "missing"},
		{name: "tampered body", header: signed(good), body: strings.Replace(good, "1467083201", "1467083202", 1), kind: platform.Auth, wantErr: "does not match"},
		{name: "huge body", header: signed(huge), body: huge, kind: platform.Permanent, wantErr: "exceeds"},
		{name: "other store", header: signed(`{"store_id":9,"event":"order/created","id":1}`), body: `{"store_id":9,"event":"order/created","id":1}`, kind: platform.Auth, wantErr: "store_id does not match"},
		{name: "missing store_id", header: signed(`{"event":"order/created","id":1}`), body: `{"event":"order/created","id":1}`, unparseable: "store_id"},
		{name: "missing event", header: signed(`{"store_id":123456,"id":1}`), body: `{"store_id":123456,"id":1}`, unparseable: "event"},
		{name: "bad event", header: signed(`{"store_id":123456,"event":"order","id":1}`), body: `{"store_id":123456,"event":"order","id":1}`, unparseable: "event"},
		{name: "missing id", header: signed(`{"store_id":123456,"event":"order/paid"}`), body: `{"store_id":123456,"event":"order/paid"}`, unparseable: "id"},
		{name: "bad id", header: signed(`{"store_id":123456,"event":"order/paid","id":"../1"}`), body: `{"store_id":123456,"event":"order/paid","id":"../1"}`, unparseable: "id"},
		{name: "not json", header: signed(`store_id=1`), body: `store_id=1`, unparseable: "body"},
		{name: "empty body", header: signed(""), body: "", unparseable: "body"},
	}
	conn, c := webhookConn()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: tt.header, Body: []byte(tt.body)})
			var ue *platform.UnparseableError
			if tt.unparseable != "" {
				if !errors.As(err, &ue) || ue.Field != tt.unparseable {
					t.Fatalf("got %v, want an unparseable error naming %q", err, tt.unparseable)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Fatalf("got unparseable %v for a delivery whose signature did not check out or that is refused", err)
			}
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %v error with %q", err, tt.kind, tt.wantErr)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Fatalf("error leaks the app secret: %v", err)
				}
				return
			}
			if err != nil || ev != tt.want {
				t.Fatalf("got %+v, %v; want %+v", ev, err, tt.want)
			}
		})
	}
	t.Run("no app_secret", func(t *testing.T) {
		conn, _ := webhookConn()
		c := New(&memSecrets{data: map[string]map[string]string{secretRef: {"access_token": "x"}}}, Options{})
		if _, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: signed(good), Body: []byte(good)}); err == nil || !strings.Contains(err.Error(), "app_secret") {
			t.Fatalf("got %v", err)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"store_id":123456,"event":"order/created","id":1467083201}`))
	f.Add([]byte(`{"store_id":"123456","event":"store/redact"}`))
	f.Add([]byte(`{"store_id":[1],"event":{"a":1},"id":null}`))
	f.Add([]byte(`{"store_id":123456,"event":"ORDER/PAID","id":1e99}`))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := parseWebhook(body, testStore)
		if err != nil {
			var ue *platform.UnparseableError
			if errors.As(err, &ue) {
				if ue.Field == "" {
					t.Fatalf("unparseable error names no field: %v", err)
				}
				return
			}
			if pe := platform.AsError(err); pe.Platform != Name || pe.Message == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if ev.ResourceID == "" || ev.Resource == "" || !strings.HasPrefix(ev.Topic, ev.Resource+"/") || !validID(ev.ResourceID) {
			t.Fatalf("accepted an incomplete event %+v", ev)
		}
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	good := `{"store_id":123456,"event":"order/created","id":1}`
	f.Add(SignWebhook([]byte(good), testSecret), []byte(good))
	f.Add("", []byte(good))
	f.Add("00", []byte(good))
	f.Add(strings.Repeat("a", 64), []byte("{}"))
	conn, c := webhookConn()
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{
			Header: http.Header{"X-Linkedstore-Hmac-Sha256": {sig}}, Body: body})
		if err == nil {
			if !validSignature(body, strings.TrimSpace(sig), testSecret) || ev.ResourceID == "" {
				t.Fatalf("accepted %q with signature %q: %+v", body, sig, ev)
			}
			return
		}
		var ue *platform.UnparseableError
		if errors.As(err, &ue) && !validSignature(body, strings.TrimSpace(sig), testSecret) {
			t.Fatalf("unsigned body %q called unparseable: %v", body, err)
		}
		if !errors.As(err, &ue) && platform.AsError(err).Platform != Name {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
