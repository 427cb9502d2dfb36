package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/store"
)

// validSetup is a minimal good setup; each Validate case breaks one field of a copy.
func validSetup() app.Setup {
	return app.Setup{
		Tenants: []app.TenantSetup{
			{ID: "acme", Name: "Acme", APIKey: "acme-key-0001", Currency: "BRL"},
			{ID: "beta", Name: "Beta", APIKey: "beta-key-0001"},
		},
		Connections: []domain.Connection{
			{ID: "acme-tray-1", Tenant: "acme", Platform: "tray", Enabled: true, SecretRef: "acme-tray-1",
				Settings: map[string]string{"api_address": "http://127.0.0.1:1/s1/web_api"}},
			{ID: "beta-tray-1", Tenant: "beta", Platform: "tray", Enabled: true, SecretRef: "beta-tray-1"},
		},
		Secrets: map[string]map[string]string{
			"acme-tray-1": {"consumer_key": "ck", "consumer_secret": "cs", "code": "code-1"},
		},
		Mappings: []domain.Mapping{
			{ConnectionID: "acme-tray-1", SKU: "A-1", ProductID: "101"},
			{ConnectionID: "beta-tray-1", SKU: "B-1", ProductID: "201", VariantID: "9"},
		},
	}
}

func TestSetupValidate(t *testing.T) {
	dec := func(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
	cases := []struct {
		name  string
		mut   func(s *app.Setup)
		field string // the error starts with it; "" means valid
		also  string // and contains this
	}{
		{name: "valid", mut: func(*app.Setup) {}},
		{name: "empty setup", mut: func(s *app.Setup) { *s = app.Setup{} }},
		{name: "tenant without id", mut: func(s *app.Setup) { s.Tenants[1].ID = "" }, field: "tenants[1].id"},
		{name: "tenant key too short", mut: func(s *app.Setup) { s.Tenants[0].APIKey = "short" }, field: "tenants[0].api_key", also: "8 characters"},
		{name: "tenant without key", mut: func(s *app.Setup) { s.Tenants[1].APIKey = "" }, field: "tenants[1].api_key"},
		{name: "operator key", mut: func(s *app.Setup) { s.Tenants[0].OperatorKey = "operator-key-0001" }},
		{name: "operator key too short", mut: func(s *app.Setup) { s.Tenants[0].OperatorKey = "op-short" }, field: "tenants[0].operator_key", also: "12 characters"},
		{name: "operator key equals its API key", mut: func(s *app.Setup) { s.Tenants[1].OperatorKey = s.Tenants[1].APIKey + "" }, field: "tenants[1].operator_key"},
		{name: "operator key is another tenant's API key", mut: func(s *app.Setup) { s.Tenants[1].OperatorKey = s.Tenants[0].APIKey }, field: "tenants[1].operator_key"},
		{name: "API key is another tenant's operator key", mut: func(s *app.Setup) {
			s.Tenants[0].OperatorKey = "operator-key-0001"
			s.Tenants[1].APIKey = "operator-key-0001"
		}, field: "tenants[1].api_key"},
		{name: "connection without id", mut: func(s *app.Setup) { s.Connections[1].ID = "" }, field: "connections[1].id"},
		{name: "connection of an unknown tenant", mut: func(s *app.Setup) { s.Connections[0].Tenant = "gamma" }, field: "connections[0].tenant", also: `"gamma"`},
		{name: "connection without tenant", mut: func(s *app.Setup) { s.Connections[0].Tenant = "" }, field: "connections[0].tenant"},
		{name: "unknown platform", mut: func(s *app.Setup) { s.Connections[1].Platform = "shopyfi" }, field: "connections[1].platform", also: `"shopyfi"`},
		{name: "bad markup", mut: func(s *app.Setup) { s.Connections[0].Rules.MarkupPct = decimal.NewFromInt(-150) }, field: "connections[0].rules", also: "markup_pct"},
		{name: "bad price ending", mut: func(s *app.Setup) { s.Connections[1].Rules.PriceEnding = dec("1.90") }, field: "connections[1].rules", also: "price_ending"},
		{name: "negative safety stock", mut: func(s *app.Setup) { s.Connections[0].Rules.SafetyStock = -1 }, field: "connections[0].rules", also: "safety_stock"},
		{name: "bad sync mode", mut: func(s *app.Setup) { s.Connections[0].Rules.SyncMode = "everything" }, field: "connections[0].rules", also: "sync_mode"},
		{name: "mapping of an unknown connection", mut: func(s *app.Setup) { s.Mappings[1].ConnectionID = "nope" }, field: "mappings[1].connection_id", also: `"nope"`},
		{name: "mapping without SKU", mut: func(s *app.Setup) { s.Mappings[0].SKU = "" }, field: "mappings[0].sku"},
		{name: "mapping without product", mut: func(s *app.Setup) { s.Mappings[1].ProductID = "" }, field: "mappings[1].product_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSetup()
			c.mut(&s)
			err := s.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid setup refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want an error naming %s", c.field)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, c.field+":") || !strings.Contains(msg, c.also) {
				t.Fatalf("error %q, want it to name %s (and mention %q)", msg, c.field, c.also)
			}
		})
	}
}

func TestLoadSetup(t *testing.T) {
	good, err := json.Marshal(validSetup())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content string // "" means: no file
		errHas  []string
	}{
		{name: "valid file", content: string(good)},
		{name: "missing file", errHas: []string{"read config"}},
		{name: "malformed JSON", content: `{"tenants":[`, errHas: []string{"setup.json"}},
		{name: "unknown field", content: `{"tenants":[],"tenant_keys":{}}`, errHas: []string{"setup.json", `unknown field "tenant_keys"`}},
		{name: "unknown nested field", content: `{"tenants":[{"id":"a","api_key":"aaaaaaaa","apikey":"x"}]}`, errHas: []string{`unknown field "apikey"`}},
		{name: "wrong type", content: `{"tenants":{"id":"a"}}`, errHas: []string{"setup.json", "tenants"}},
		{name: "invalid content names the field", content: `{"tenants":[{"id":"a","api_key":"short"}]}`, errHas: []string{"setup.json", "tenants[0].api_key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "setup.json")
			if c.content != "" {
				if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := app.LoadSetup(path)
			if len(c.errHas) == 0 {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(s.Tenants) != 2 || len(s.Connections) != 2 || len(s.Mappings) != 2 || s.Secrets["acme-tray-1"]["code"] != "code-1" {
					t.Fatalf("loaded %+v", s)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", c.errHas)
			}
			for _, want := range c.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestApplySetupEmbedded(t *testing.T) { testApplySetup(t, openEmbedded(t)) }

func TestApplySetupAWS(t *testing.T) { testApplySetup(t, openAWS(t)) }

// testApplySetup applies the same setup at every "start": nothing breaks, secrets a
// connector refreshed in between survive, config changes win, a rotated key replaces the old.
func testApplySetup(t *testing.T, hub *app.Hub) {
	ctx := context.Background()
	s := validSetup()
	if err := hub.ApplySetup(ctx, s); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	// The connector refreshed its token since.
	refreshed := map[string]string{"consumer_key": "ck", "consumer_secret": "cs", "code": "code-1",
		"access_token": "tok-refreshed", "refresh_token": "ref-refreshed"}
	if err := hub.Secrets.PutSecret(ctx, "acme-tray-1", refreshed); err != nil {
		t.Fatalf("put secret: %v", err)
	}
	for i := range 2 {
		if err := hub.ApplySetup(ctx, s); err != nil {
			t.Fatalf("apply again (%d): %v", i, err)
		}
	}
	got, err := hub.Secrets.GetSecret(ctx, "acme-tray-1")
	if err != nil {
		t.Fatal(err)
	}
	if got["access_token"] != "tok-refreshed" || got["refresh_token"] != "ref-refreshed" || got["code"] != "code-1" {
		t.Fatalf("secret after re-apply %v: refreshed tokens lost", got)
	}

	// Everything reads back once, by key and by id.
	for _, ts := range s.Tenants {
		tn, err := hub.Store.TenantByAPIKeyHash(ctx, httpapi.HashKey(ts.APIKey))
		if err != nil || tn.ID != ts.ID {
			t.Fatalf("tenant by key of %s: %+v %v", ts.ID, tn, err)
		}
		if tn.APIKeyHash == ts.APIKey || tn.APIKeyHash != httpapi.HashKey(ts.APIKey) {
			t.Fatalf("tenant %s stored key %q, want only its hash", ts.ID, tn.APIKeyHash)
		}
	}
	for _, c := range s.Connections {
		got, err := hub.Store.GetConnection(ctx, c.ID)
		if err != nil || got.Tenant != c.Tenant || got.Platform != c.Platform || got.CreatedAt.IsZero() {
			t.Fatalf("connection %s: %+v %v", c.ID, got, err)
		}
	}
	m, err := hub.Store.GetMapping(ctx, "beta", "beta-tray-1", "B-1")
	if err != nil || m.Tenant != "beta" || m.ProductID != "201" || m.VariantID != "9" {
		t.Fatalf("mapping B-1: %+v %v", m, err)
	}
	if ms, err := hub.Store.ListMappings(ctx, "acme", "A-1"); err != nil || len(ms) != 1 {
		t.Fatalf("re-applying duplicated mappings: %+v %v", ms, err)
	}
	if _, err := hub.Store.GetMapping(ctx, "acme", "beta-tray-1", "B-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("beta's mapping readable as acme's: %v", err)
	}

	// A changed credential in the config wins; the refreshed token stays.
	s.Secrets["acme-tray-1"]["consumer_secret"] = "cs-rotated"
	// A rotated tenant key replaces the old one.
	s.Tenants[0].APIKey = "acme-key-0002"
	if err := hub.ApplySetup(ctx, s); err != nil {
		t.Fatalf("apply changed setup: %v", err)
	}
	if got, _ := hub.Secrets.GetSecret(ctx, "acme-tray-1"); got["consumer_secret"] != "cs-rotated" || got["access_token"] != "tok-refreshed" {
		t.Fatalf("secret after a config change: %v", got)
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, httpapi.HashKey("acme-key-0002")); err != nil || tn.ID != "acme" {
		t.Fatalf("new key: %+v %v", tn, err)
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, httpapi.HashKey("acme-key-0001")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old key still reaches %+v (%v)", tn, err)
	}

	// One key must reach one tenant: giving beta acme's key is refused and acme keeps it.
	s.Tenants[1].APIKey = "acme-key-0002"
	if err := hub.ApplySetup(ctx, s); err == nil {
		t.Fatal("two tenants with one key accepted")
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, httpapi.HashKey("acme-key-0002")); err != nil || tn.ID != "acme" {
		t.Fatalf("shared key now reaches %+v (%v)", tn, err)
	}

	// An invalid setup writes nothing.
	bad := validSetup()
	bad.Tenants = append(bad.Tenants, app.TenantSetup{ID: "gamma", APIKey: "gamma-key-0001"})
	bad.Mappings[0].ProductID = ""
	if err := hub.ApplySetup(ctx, bad); err == nil || !strings.Contains(err.Error(), "mappings[0].product_id") {
		t.Fatalf("invalid setup: %v", err)
	}
	if _, err := hub.Store.GetTenant(ctx, "gamma"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invalid setup partly applied: gamma %v", err)
	}
}

// On AWS an endpoint whose signing secret lies outside webhooks/ would dead-letter every
// delivery (the events function may read only there): the setup is refused up front.
func TestApplySetupEndpointSecretsOnAWS(t *testing.T) {
	s := validSetup()
	s.Secrets["erp-hook"] = map[string]string{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	s.Tenants[0].Endpoints = []domain.WebhookEndpoint{{ID: "erp", URL: "https://erp.example/hooks", SecretRef: "erp-hook"}}
	err := openAWS(t).ApplySetup(context.Background(), s)
	if err == nil || !strings.HasPrefix(err.Error(), "tenants[0].endpoints[0].secret_ref:") || !strings.Contains(err.Error(), `"webhooks/"`) {
		t.Fatalf("AWS accepted a secret the events function cannot read: %v", err)
	}
	if err := openEmbedded(t).ApplySetup(context.Background(), s); err != nil {
		t.Fatalf("embedded refused it: %v", err)
	}
	s.Secrets[app.EndpointSecretPrefix+"erp-hook"] = s.Secrets["erp-hook"]
	s.Tenants[0].Endpoints[0].SecretRef = app.EndpointSecretPrefix + "erp-hook"
	s.Tenants[0].OperatorKey = "acme-operator-key-1"
	hub := openAWS(t)
	if err := hub.ApplySetup(context.Background(), s); err != nil {
		t.Fatalf("AWS refused a readable secret: %v", err)
	}
	tn, err := hub.Store.TenantByOperatorKeyHash(context.Background(), httpapi.HashKey("acme-operator-key-1"))
	if err != nil || tn.ID != "acme" {
		t.Fatalf("operator key: %+v %v", tn, err)
	}
}
