package merchantpro

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// memSecrets is an in-memory platform.Secrets.
type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
	gets int
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	v, ok := m.data[ref]
	if !ok {
		return nil, errors.New("no such secret")
	}
	return maps.Clone(v), nil
}

func (m *memSecrets) PutSecret(_ context.Context, ref string, values map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref] = maps.Clone(values)
	return nil
}

func (m *memSecrets) set(ref string, values map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref] = maps.Clone(values)
}

// env is a simulator on loopback, one store "shop1", and a connector for it.
type env struct {
	t       *testing.T
	sim     *merchantprosim.Server
	base    string
	secrets *memSecrets
	conn    domain.Connection
	c       *Connector
}

const (
	testStore  = "shop1"
	testKey    = "mp-key-1"
	testSecret = "mp-secret-very-private"
	testWHSec  = "whsec-test"
)

// newEnv starts a simulator whose store admits 1000 requests a second unless simOpts
// says otherwise; settings override the connection's.
func newEnv(t *testing.T, simOpts merchantprosim.Options, settings map[string]string) *env {
	t.Helper()
	if simOpts.RateLimit == 0 {
		simOpts.RateLimit, simOpts.RateWindow = 1000, 1e9
	}
	sim := merchantprosim.New(simOpts)
	sim.AddStore(testStore, merchantprosim.StoreConfig{APIKey: testKey, APISecret: testSecret})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim, base: base}
	e.secrets = &memSecrets{data: map[string]map[string]string{
		"mp/conn1": {"api_key": testKey, "api_secret": testSecret, "webhook_secret": testWHSec},
	}}
	s := map[string]string{
		"base_url":       merchantprosim.StoreURL(base, testStore),
		"rate_limit":     strconv.Itoa(simOpts.RateLimit),
		"rate_window_ms": strconv.FormatInt(simOpts.RateWindow.Milliseconds(), 10),
	}
	maps.Copy(s, settings)
	e.conn = domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true,
		Settings: s, SecretRef: "mp/conn1", Currency: "RON"}
	e.c = New(e.secrets, Options{})
	return e
}

func (e *env) endpoint(name string) int64 { return e.sim.Calls(testStore).ByEndpoint[name] }

func ron(s string) *domain.Money {
	m := domain.MustMoney(s, "RON")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }

// addSimple adds simple products 1..n with stock 0 and price 10.
func (e *env) addSimple(n int) {
	for i := 1; i <= n; i++ {
		if err := e.sim.AddProduct(testStore, merchantprosim.Product{ID: int64(i), SKU: "S" + strconv.Itoa(i),
			Name: "Simple " + strconv.Itoa(i), PriceGross: dec("10"), PriceNet: dec("8.40")}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// addMulti adds a multi_variant product id with variants id*1000+1..n.
func (e *env) addMulti(id int64, n int) {
	p := merchantprosim.Product{ID: id, SKU: "M" + strconv.FormatInt(id, 10), Name: "Tricou"}
	for k := 1; k <= n; k++ {
		p.Variants = append(p.Variants, &merchantprosim.Variant{ID: id*1000 + int64(k),
			SKU: "M" + strconv.FormatInt(id, 10) + "-" + strconv.Itoa(k), PriceGross: dec("50"),
			Options: [][2]string{{"Mărime", strconv.Itoa(k)}}})
	}
	if err := e.sim.AddProduct(testStore, p); err != nil {
		e.t.Fatal(err)
	}
}

func vid(p, k int64) string { return strconv.FormatInt(p*1000+k, 10) }

func platformStatus(status, tracking, trackingURL, invoice string) domain.OrderStatusUpdate {
	return domain.OrderStatusUpdate{PlatformStatus: status, TrackingCode: tracking, TrackingURL: trackingURL,
		InvoiceNumber: invoice, Carrier: "FAN Courier"}
}

func platformSimProduct(id string) platformsim.Product { return platformsim.Product{ProductID: id} }
