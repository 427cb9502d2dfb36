// Package demo starts what `ponte serve` shows a newcomer with no config: tenant "demo"
// (key APIKey) selling five SKUs on two simulated stores per chosen platform, with
// connections named demo-<platform>-1 and demo-<platform>-2.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platforms"
	"github.com/ponte-hub/ponte/internal/store"
)

// The demo's keys are published (README, events/): long enough for setup's minimum,
// and named so nobody mistakes them for real ones.
const (
	Tenant = "demo"
	APIKey = "demo-erp-key-for-local-use-only"
	// OperatorKey opens the operator's page at /admin/ and the /v1/admin API.
	OperatorKey = "demo-operator-key-for-local-use-only"
)

var products = []struct{ sku, name, price string }{
	{"DEMO-1", "Caneca azul 300 ml", "29.90"},
	{"DEMO-2", "Camiseta algodão P", "59.90"},
	{"DEMO-3", "Garrafa térmica 1 l", "119.00"},
	{"DEMO-4", "Caderno A5 pautado", "24.50"},
	{"DEMO-5", "Mochila 20 l", "189.90"},
}

// SKUs lists the demo's SKUs.
func SKUs() []string {
	out := make([]string, len(products))
	for i, p := range products {
		out[i] = p.sku
	}
	return out
}

// Demo is a running demo.
type Demo struct {
	// Connections are the demo's connection ids.
	Connections []string
	// Simulators are the running simulators with their base URLs.
	Simulators map[string]string
	sims       []platformsim.Simulator
}

// Close stops the simulated stores.
func (d *Demo) Close() {
	for _, s := range d.sims {
		s.Close()
	}
}

// Start runs two simulated stores per platform (the first simulator on simAddr, or any
// free port if taken, the rest on free ports) and seeds the hub.
func Start(ctx context.Context, hub *app.Hub, simAddr string, platformNames []string) (*Demo, error) {
	d := &Demo{Simulators: map[string]string{}}
	setup := app.Setup{
		Tenants: []app.TenantSetup{{ID: Tenant, Name: "Demo merchant", APIKey: APIKey, OperatorKey: OperatorKey, Currency: "BRL"}},
		Secrets: map[string]map[string]string{},
	}
	for i, name := range platformNames {
		sim, err := platforms.Simulator(name)
		if err != nil {
			d.Close()
			return nil, err
		}
		addr := "127.0.0.1:0"
		if i == 0 {
			addr = simAddr
		}
		base, err := sim.Start(addr)
		if err != nil && addr != "127.0.0.1:0" {
			base, err = sim.Start("127.0.0.1:0")
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start %s simulator: %w", name, err)
		}
		d.sims = append(d.sims, sim)
		d.Simulators[name] = base
		if err := addStores(ctx, hub, sim, name, &setup, d); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := hub.ApplySetup(ctx, setup); err != nil {
		d.Close()
		return nil, err
	}
	// ApplySetup keeps tokens a connector saved on a previous run; the demo's simulators
	// start fresh and know none of them, so the demo's credentials replace them whole.
	for ref, values := range setup.Secrets {
		if err := hub.Secrets.PutSecret(ctx, ref, values); err != nil {
			d.Close()
			return nil, fmt.Errorf("reset demo credentials: %w", err)
		}
	}
	if err := seedCatalogue(ctx, hub); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func addStores(ctx context.Context, hub *app.Hub, sim platformsim.Simulator, name string, setup *app.Setup, d *Demo) error {
	for i := 1; i <= 2; i++ {
		connID := fmt.Sprintf("demo-%s-%d", name, i)
		reach, err := sim.NewStore("store"+strconv.Itoa(i), 0)
		if err != nil {
			return fmt.Errorf("%s store: %w", name, err)
		}
		rules := domain.Rules{}
		if i == 2 {
			// The second store sells 10% above the ERP price, ending in .90: the rules at work.
			rules.MarkupPct = decimal.NewFromInt(10)
			end := decimal.RequireFromString("0.90")
			rules.PriceEnding = &end
		}
		setup.Connections = append(setup.Connections, domain.Connection{
			ID: connID, Tenant: Tenant, Platform: name, Name: fmt.Sprintf("Demo %s store %d", name, i), Enabled: true,
			Rules: rules, SecretRef: connID, Currency: "BRL", Settings: reach.Settings,
		})
		setup.Secrets[connID] = reach.Secrets
		d.Connections = append(d.Connections, connID)
		for _, p := range products {
			// The simulator keeps nothing between runs: give it what the hub last pushed, as a
			// real store would still hold it.
			stock, price := int64(0), decimal.Zero
			last, err := hub.Store.GetPushed(ctx, Tenant, connID, p.sku)
			switch {
			case err == nil:
				if last.Stock != nil {
					stock = *last.Stock
				}
				if last.Price != nil {
					price = last.Price.Amount
				}
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("read pushed state: %w", err)
			}
			prod, err := sim.NewProduct("store"+strconv.Itoa(i), p.sku, stock, price)
			if err != nil {
				return fmt.Errorf("%s product: %w", name, err)
			}
			setup.Mappings = append(setup.Mappings, domain.Mapping{ConnectionID: connID, SKU: p.sku, ProductID: prod.ProductID, VariantID: prod.VariantID})
		}
	}
	return nil
}

// seedCatalogue posts version 1 of each demo product, its stock and price, as an ERP would.
// On later starts these are duplicates and change nothing.
func seedCatalogue(ctx context.Context, hub *app.Hub) error {
	var changes []ingest.Change
	for _, p := range products {
		price := domain.MustMoney(p.price, "BRL")
		changes = append(changes,
			ingest.Change{Kind: ingest.KindProduct, SKU: p.sku, Version: 1,
				Product: &domain.Product{SKU: p.sku, Name: p.name, Publish: true, SyncStock: true, Version: 1}},
			ingest.Change{Kind: ingest.KindStock, SKU: p.sku, Version: 1,
				Stock: &domain.StockLevel{Warehouse: ingest.DefaultWarehouse, Quantity: 10, Version: 1}},
			ingest.Change{Kind: ingest.KindPrice, SKU: p.sku, Version: 1,
				Price: &domain.PriceInfo{Price: price, Version: 1}})
	}
	if _, err := hub.Ingest.Apply(ctx, Tenant, changes); err != nil {
		return fmt.Errorf("seed demo catalogue: %w", err)
	}
	return nil
}
