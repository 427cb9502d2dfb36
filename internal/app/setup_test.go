package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/store"
)

// validSetup is a minimal good setup; each Validate case breaks one field of a copy.
func validSetup() app.Setup {
	return app.Setup{
		Tenants: []app.TenantSetup{
			{ID: "acme", Name: "Acme", APIKey: "acme-erp-key-0000000000001", Currency: "BRL"},
			{ID: "beta", Name: "Beta", APIKey: "beta-erp-key-0000000000001"},
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
		{name: "tenant key too short", mut: func(s *app.Setup) { s.Tenants[0].APIKey = "short" }, field: "tenants[0].api_key", also: "24 characters"},
		{name: "tenant key one short of the minimum", mut: func(s *app.Setup) { s.Tenants[0].APIKey = strings.Repeat("k", app.MinKeyLength-1) },
			field: "tenants[0].api_key", also: "24 characters"},
		{name: "tenant key of exactly the minimum", mut: func(s *app.Setup) { s.Tenants[0].APIKey = strings.Repeat("k", app.MinKeyLength) }},
		{name: "tenant key with a space", mut: func(s *app.Setup) { s.Tenants[0].APIKey = "acme erp key 0000000000001" }, field: "tenants[0].api_key", also: "printable"},
		{name: "tenant key with a newline", mut: func(s *app.Setup) { s.Tenants[0].APIKey = "acme-erp-key-000000000000\n1" }, field: "tenants[0].api_key", also: "printable"},
		{name: "tenant key beyond ASCII", mut: func(s *app.Setup) { s.Tenants[0].APIKey = "acme-erp-key-00000000000é1" }, field: "tenants[0].api_key", also: "printable"},
		{name: "tenant without key", mut: func(s *app.Setup) { s.Tenants[1].APIKey = "" }, field: "tenants[1].api_key"},
		{name: "operator key", mut: func(s *app.Setup) { s.Tenants[0].OperatorKey = "operator-key-0000000000001" }},
		{name: "operator key too short", mut: func(s *app.Setup) { s.Tenants[0].OperatorKey = "operator-key-0001" }, field: "tenants[0].operator_key", also: "24 characters"},
		{name: "operator key equals its API key", mut: func(s *app.Setup) { s.Tenants[1].OperatorKey = s.Tenants[1].APIKey + "" }, field: "tenants[1].operator_key"},
		{name: "operator key is another tenant's API key", mut: func(s *app.Setup) { s.Tenants[1].OperatorKey = s.Tenants[0].APIKey }, field: "tenants[1].operator_key"},
		{name: "API key is another tenant's operator key", mut: func(s *app.Setup) {
			s.Tenants[0].OperatorKey = "operator-key-0000000000001"
			s.Tenants[1].APIKey = "operator-key-0000000000001"
		}, field: "tenants[1].api_key"},
		{name: "connection without id", mut: func(s *app.Setup) { s.Connections[1].ID = "" }, field: "connections[1].id"},
		{name: "connection of an unknown tenant", mut: func(s *app.Setup) { s.Connections[0].Tenant = "gamma" }, field: "connections[0].tenant", also: `"gamma"`},
		{name: "connection without tenant", mut: func(s *app.Setup) { s.Connections[0].Tenant = "" }, field: "connections[0].tenant"},
		{name: "unknown platform", mut: func(s *app.Setup) { s.Connections[1].Platform = "shopyfi" }, field: "connections[1].platform", also: `"shopyfi"`},
		{name: "connection currency other than its tenant's", mut: func(s *app.Setup) {
			s.Connections[0].Tenant, s.Connections[0].Currency = "acme", "USD"
		}, field: "connections[0].currency", also: "no connection converts"},
		{name: "connection currency in another case", mut: func(s *app.Setup) {
			s.Connections[0].Tenant, s.Connections[0].Currency = "acme", "brl"
		}},
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
		{name: "unknown nested field", content: `{"tenants":[{"id":"a","api_key":"aaaaaaaaaaaaaaaaaaaaaaaa","apikey":"x"}]}`, errHas: []string{`unknown field "apikey"`}},
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
		tn, err := hub.Store.TenantByAPIKeyHash(ctx, hub.Keys.Hash(ts.APIKey))
		if err != nil || tn.ID != ts.ID {
			t.Fatalf("tenant by key of %s: %+v %v", ts.ID, tn, err)
		}
		if tn.APIKeyHash == ts.APIKey || tn.APIKeyHash != hub.Keys.Hash(ts.APIKey) {
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
	s.Tenants[0].APIKey = "acme-erp-key-0000000000002"
	if err := hub.ApplySetup(ctx, s); err != nil {
		t.Fatalf("apply changed setup: %v", err)
	}
	if got, _ := hub.Secrets.GetSecret(ctx, "acme-tray-1"); got["consumer_secret"] != "cs-rotated" || got["access_token"] != "tok-refreshed" {
		t.Fatalf("secret after a config change: %v", got)
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, hub.Keys.Hash("acme-erp-key-0000000000002")); err != nil || tn.ID != "acme" {
		t.Fatalf("new key: %+v %v", tn, err)
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, hub.Keys.Hash("acme-erp-key-0000000000001")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old key still reaches %+v (%v)", tn, err)
	}

	// One key must reach one tenant: giving beta acme's key is refused and acme keeps it.
	s.Tenants[1].APIKey = "acme-erp-key-0000000000002"
	if err := hub.ApplySetup(ctx, s); err == nil {
		t.Fatal("two tenants with one key accepted")
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, hub.Keys.Hash("acme-erp-key-0000000000002")); err != nil || tn.ID != "acme" {
		t.Fatalf("shared key now reaches %+v (%v)", tn, err)
	}

	// An invalid setup writes nothing.
	bad := validSetup()
	bad.Tenants = append(bad.Tenants, app.TenantSetup{ID: "gamma", APIKey: "gamma-erp-key-000000000001"})
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
	s.Tenants[0].OperatorKey = "acme-operator-key-00000001"
	hub := openAWS(t)
	if err := hub.ApplySetup(context.Background(), s); err != nil {
		t.Fatalf("AWS refused a readable secret: %v", err)
	}
	tn, err := hub.Store.TenantByOperatorKeyHash(context.Background(), hub.Keys.Hash("acme-operator-key-00000001"))
	if err != nil || tn.ID != "acme" {
		t.Fatalf("operator key: %+v %v", tn, err)
	}
}

func TestSetupRevokesWhatItNoLongerListsEmbedded(t *testing.T) {
	testSetupRevokes(t, openEmbedded(t))
}

func TestSetupRevokesWhatItNoLongerListsAWS(t *testing.T) { testSetupRevokes(t, openAWS(t)) }

// call sends one request through the hub's HTTP API.
func call(t *testing.T, hub *app.Hub, method, path, key, body string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	hub.API.Handler().ServeHTTP(rec, req)
	return rec.Code
}

// captureLog sends the hub's logs to the returned buffer from now on.
func captureLog(hub *app.Hub) *strings.Builder {
	var buf strings.Builder
	hub.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	return &buf
}

// testSetupRevokes: a setup without beta and without acme's connection disables them
// (kept, logged by name): beta's key answers 401, neither connection takes webhooks or is
// listed for polling and reconciliation; acme keeps working; beta's old key may go to a
// new tenant; listing them again brings everything back.
func testSetupRevokes(t *testing.T, hub *app.Hub) {
	ctx := context.Background()
	full := validSetup()
	full.Tenants[1].OperatorKey = "beta-operator-key-00000001"
	if err := hub.ApplySetup(ctx, full); err != nil {
		t.Fatalf("apply: %v", err)
	}
	acmeKey, betaKey, betaOp := full.Tenants[0].APIKey, full.Tenants[1].APIKey, full.Tenants[1].OperatorKey
	const ordersPath, queuesPath = "/v1/erp/orders?status=pending", "/v1/admin/queues"
	type expect struct {
		method, path, key string
		status            int
	}
	check := func(stage string, want []expect) {
		t.Helper()
		for _, w := range want {
			if got := call(t, hub, w.method, w.path, w.key, ""); got != w.status {
				t.Errorf("%s: %s %s with %.8s…: %d, want %d", stage, w.method, w.path, w.key, got, w.status)
			}
		}
	}
	enabled := func() []string {
		t.Helper()
		conns, err := store.EnabledConnections(ctx, hub.Store)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range conns {
			ids = append(ids, c.ID)
		}
		return ids
	}
	webhook := func(conn string) expect {
		return expect{http.MethodPost, "/v1/webhooks/tray/" + conn, "", http.StatusNotFound}
	}
	check("listed", []expect{
		{http.MethodGet, ordersPath, acmeKey, http.StatusOK},
		{http.MethodGet, ordersPath, betaKey, http.StatusOK},
		{http.MethodGet, queuesPath, betaOp, http.StatusOK},
	})
	if got := enabled(); len(got) != 2 {
		t.Fatalf("enabled connections before: %v", got)
	}

	logs := captureLog(hub)
	cut := validSetup()
	cut.Tenants = cut.Tenants[:1]
	cut.Connections = nil
	cut.Mappings = nil
	for range 2 { // a second start with the same setup changes nothing more
		if err := hub.ApplySetup(ctx, cut); err != nil {
			t.Fatalf("apply without beta and acme-tray-1: %v", err)
		}
	}
	check("removed", []expect{
		{http.MethodGet, ordersPath, acmeKey, http.StatusOK},
		{http.MethodGet, ordersPath, betaKey, http.StatusUnauthorized},
		{http.MethodGet, queuesPath, betaOp, http.StatusUnauthorized},
		webhook("acme-tray-1"), webhook("beta-tray-1"),
	})
	if got := enabled(); len(got) != 0 {
		t.Errorf("disabled connections still polled and reconciled: %v", got)
	}
	if reps, err := hub.Reconcile.RunAll(ctx); err != nil || len(reps) != 0 {
		t.Errorf("reconcile all ran %d connections (%v)", len(reps), err)
	}
	if _, err := hub.Reconcile.Run(ctx, "acme-tray-1"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("reconciling a disabled connection: %v", err)
	}
	beta, err := hub.Store.GetTenant(ctx, "beta")
	if err != nil || !beta.Disabled || beta.APIKeyHash != "" || beta.OperatorKeyHash != "" {
		t.Errorf("beta after removal: %+v %v, want kept, disabled, without keys", beta, err)
	}
	if m, err := hub.Store.GetMapping(ctx, "beta", "beta-tray-1", "B-1"); err != nil || m.ProductID != "201" {
		t.Errorf("beta's mapping not kept: %+v %v", m, err)
	}
	// Each start names every disabled tenant and connection once, and nothing listed.
	named := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l struct{ Msg, Tenant, Connection string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch {
		case strings.HasPrefix(l.Msg, "tenant not in the setup"):
			named["tenant "+l.Tenant]++
		case strings.HasPrefix(l.Msg, "connection not in the setup"):
			named["connection "+l.Connection]++
		}
	}
	if want := map[string]int{"tenant beta": 2, "connection acme-tray-1": 2, "connection beta-tray-1": 2}; !maps.Equal(named, want) {
		t.Errorf("named over two starts %v, want %v:\n%s", named, want, logs)
	}
	if strings.Contains(logs.String(), betaKey) || strings.Contains(logs.String(), acmeKey) {
		t.Errorf("a key reached the log:\n%s", logs)
	}

	// The removed tenant's key may be given to a new tenant.
	gamma := cut
	gamma.Tenants = append(append([]app.TenantSetup{}, cut.Tenants...), app.TenantSetup{ID: "gamma", APIKey: betaKey})
	if err := hub.ApplySetup(ctx, gamma); err != nil {
		t.Fatalf("beta's old key for gamma: %v", err)
	}
	if tn, err := hub.Store.TenantByAPIKeyHash(ctx, hub.Keys.Hash(betaKey)); err != nil || tn.ID != "gamma" {
		t.Fatalf("beta's old key reaches %+v (%v), want gamma", tn, err)
	}

	// Listed again: enabled again, with its keys.
	if err := hub.ApplySetup(ctx, full); err != nil {
		t.Fatalf("apply the full setup again: %v", err)
	}
	check("listed again", []expect{
		{http.MethodGet, ordersPath, acmeKey, http.StatusOK},
		{http.MethodGet, ordersPath, betaKey, http.StatusOK},
		{http.MethodGet, queuesPath, betaOp, http.StatusOK},
	})
	if got := call(t, hub, http.MethodPost, "/v1/webhooks/tray/acme-tray-1", "", ""); got == http.StatusNotFound {
		t.Error("re-listed connection still answers webhooks 404")
	}
	if got := enabled(); len(got) != 2 {
		t.Errorf("enabled connections after re-listing: %v", got)
	}
	if beta, err := hub.Store.GetTenant(ctx, "beta"); err != nil || beta.Disabled {
		t.Errorf("beta after re-listing: %+v %v", beta, err)
	}
}

func TestKeyHashUpgradeEmbedded(t *testing.T) { testKeyHashUpgrade(t, openEmbedded(t)) }

func TestKeyHashUpgradeAWS(t *testing.T) {
	hub := openAWS(t)
	// The AWS wiring takes its pepper from the environment; give this hub one.
	h, err := keys.NewHasher("test-pepper-0123456789abcdef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	hub.Keys, hub.API.Keys = h, h
	testKeyHashUpgrade(t, hub)
}

// testKeyHashUpgrade: keys stored as unkeyed SHA-256 (before the pepper) still open the
// API, and the next setup apply rewrites them keyed; the unkeyed form then reaches nothing.
func testKeyHashUpgrade(t *testing.T, hub *app.Hub) {
	ctx := context.Background()
	if hub.Keys == nil {
		t.Fatal("the hub has no pepper")
	}
	s := validSetup()
	s.Tenants[0].OperatorKey = "acme-operator-key-00000001"
	apiKey, opKey := s.Tenants[0].APIKey, s.Tenants[0].OperatorKey
	// What a store written by an earlier version holds.
	legacy := domain.Tenant{ID: "acme", Name: "Acme", Currency: "BRL", CreatedAt: time.Now().UTC(),
		APIKeyHash: keys.LegacyHash(apiKey), OperatorKeyHash: keys.LegacyHash(opKey)}
	if err := hub.Store.PutTenant(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"before the upgrade", "after the upgrade"} {
		if got := call(t, hub, http.MethodGet, "/v1/erp/orders", apiKey, ""); got != http.StatusOK {
			t.Errorf("%s: API key: %d", stage, got)
		}
		if got := call(t, hub, http.MethodGet, "/v1/admin/queues", opKey, ""); got != http.StatusOK {
			t.Errorf("%s: operator key: %d", stage, got)
		}
		if got := call(t, hub, http.MethodGet, "/v1/erp/orders", keys.LegacyHash(apiKey), ""); got != http.StatusUnauthorized {
			t.Errorf("%s: the stored hash used as a key: %d", stage, got)
		}
		if stage == "before the upgrade" {
			if err := hub.ApplySetup(ctx, s); err != nil {
				t.Fatalf("apply: %v", err)
			}
		}
	}
	tn, err := hub.Store.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if tn.APIKeyHash != hub.Keys.Hash(apiKey) || tn.OperatorKeyHash != hub.Keys.Hash(opKey) || tn.APIKeyHash == keys.LegacyHash(apiKey) {
		t.Fatalf("stored hashes after apply: %q %q, want the keyed ones", tn.APIKeyHash, tn.OperatorKeyHash)
	}
	if _, err := hub.Store.TenantByAPIKeyHash(ctx, keys.LegacyHash(apiKey)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the unkeyed hash still reaches the tenant: %v", err)
	}
}
