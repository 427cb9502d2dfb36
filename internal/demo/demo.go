// Package demo starts what `ponte serve` shows a newcomer with no config: tenant "demo"
// (key "demo-key") selling five SKUs on two simulated Tray stores.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/store"
)

const (
	Tenant = "demo"
	APIKey = "demo-key"
)

// Connections are the demo's two Tray stores.
var Connections = []string{"demo-tray-1", "demo-tray-2"}

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
	SimulatorURL string
	Sim          *traysim.Server
}

// Close stops the simulated stores.
func (d *Demo) Close() { d.Sim.Close() }

// Start runs the simulated stores on simAddr (any free port if taken) and seeds the hub.
func Start(ctx context.Context, hub *app.Hub, simAddr string) (*Demo, error) {
	sim := traysim.New(traysim.Options{})
	base, err := sim.Start(simAddr)
	if err != nil {
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			return nil, err
		}
		if base, err = sim.Start("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start simulated stores: %w", err)
		}
	}
	setup := app.Setup{
		Tenants: []app.TenantSetup{{ID: Tenant, Name: "Demo merchant", APIKey: APIKey, Currency: "BRL"}},
		Secrets: map[string]map[string]string{},
	}
	for i, connID := range Connections {
		storeID := "store" + strconv.Itoa(i+1)
		cfg := traysim.StoreConfig{ConsumerKey: "demo-consumer-key", ConsumerSecret: "demo-consumer-secret", Code: "demo-code-" + storeID}
		sim.AddStore(storeID, cfg)
		rules := domain.Rules{}
		if i == 1 {
			// The second store sells 10% above the ERP price, ending in .90: the rules at work.
			rules.MarkupPct = decimal.NewFromInt(10)
			end := decimal.RequireFromString("0.90")
			rules.PriceEnding = &end
		}
		setup.Connections = append(setup.Connections, domain.Connection{
			ID: connID, Tenant: Tenant, Platform: "tray", Name: "Demo Tray store " + strconv.Itoa(i+1), Enabled: true,
			Rules: rules, SecretRef: connID, Currency: "BRL",
			Settings: map[string]string{"api_address": traysim.APIAddress(base, storeID), "store_id": strconv.Itoa(1000 + i + 1)},
		})
		setup.Secrets[connID] = map[string]string{"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret, "code": cfg.Code}
		for j, p := range products {
			productID := strconv.Itoa(101 + j)
			setup.Mappings = append(setup.Mappings, domain.Mapping{ConnectionID: connID, SKU: p.sku, ProductID: productID})
			// The simulator keeps nothing between runs: give it what the hub last pushed, as a
			// real store would still hold it.
			stock, price := int64(0), decimal.Zero
			if last, err := hub.Store.GetPushed(ctx, Tenant, connID, p.sku); err == nil {
				if last.Stock != nil {
					stock = *last.Stock
				}
				if last.Price != nil {
					price = last.Price.Amount
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("read pushed state: %w", err)
			}
			sim.AddProduct(storeID, productID, stock, price)
		}
	}
	if err := hub.ApplySetup(ctx, setup); err != nil {
		sim.Close()
		return nil, err
	}
	if err := seedCatalogue(ctx, hub); err != nil {
		sim.Close()
		return nil, err
	}
	return &Demo{SimulatorURL: base, Sim: sim}, nil
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
