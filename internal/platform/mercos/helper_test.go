package mercos

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
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
)

type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
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

const (
	testStore = "store1"
	appTok    = "app-token-secret-1"
	compTok   = "company-token-secret-1"
)

type env struct {
	t    *testing.T
	sim  *mercossim.Server
	conn domain.Connection
	c    *Connector
}

// newEnv starts a simulator with one company and a connector for it. The default
// limits are generous so tests run fast; limit tests set their own.
func newEnv(t *testing.T, simOpts mercossim.Options, cfg mercossim.StoreConfig, settings map[string]string) *env {
	t.Helper()
	if simOpts.RateLimitPerMin == 0 {
		simOpts.RateLimitPerMin = 100000
	}
	sim := mercossim.New(simOpts)
	if cfg.ApplicationToken == "" {
		cfg.ApplicationToken, cfg.CompanyToken = appTok, compTok
	}
	sim.AddStore(testStore, cfg)
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	secrets := &memSecrets{data: map[string]map[string]string{
		"mercos/conn1": {"application_token": appTok, "company_token": compTok},
	}}
	s := map[string]string{"base_url": mercossim.APIBase(base), "rate_limit_per_min": "100000"}
	maps.Copy(s, settings)
	conn := domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true, Settings: s,
		SecretRef: "mercos/conn1", Currency: "BRL"}
	return &env{t: t, sim: sim, conn: conn, c: New(secrets, Options{})}
}

func (e *env) calls() mercossim.CallStats { return e.sim.Calls(testStore) }

func (e *env) products(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = e.sim.AddProduct(testStore, "SKU"+strconv.Itoa(i), "Produto "+strconv.Itoa(i), 0, dec("10.00"))
	}
	return ids
}

func stockUpdates(ids []int64, base int64) []platform.Update {
	ups := make([]platform.Update, len(ids))
	for i, id := range ids {
		ups[i] = platform.Update{Target: platform.Target{SKU: "SKU" + strconv.Itoa(i), ProductID: strconv.FormatInt(id, 10)}, Stock: i64(base + int64(i))}
	}
	return ups
}

func brl(s string) *domain.Money {
	m := domain.MustMoney(s, "BRL")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }
