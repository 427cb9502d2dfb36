package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

const (
	tenant = "bench"
	apiKey = "bench-erp-key-000000000001"
)

// Run performs a whole bench: burst phase, then paced phase.
func Run(ctx context.Context, o Options, progress io.Writer) (Report, error) {
	if o.SKUs < 1 || o.Stores < 1 || o.Changes < o.SKUs || o.BatchSize < 1 || o.BatchSize > ingest.MaxBatchChanges {
		return Report{}, fmt.Errorf("options: need changes >= skus >= 1, stores >= 1, 1 <= batch <= %d", ingest.MaxBatchChanges)
	}
	w, err := startWorld(ctx, o, nil)
	if err != nil {
		return Report{}, err
	}
	defer w.Close()
	hub, sim, rec, stores := w.hub, w.sim, w.rec, w.stores

	c := &client{url: w.apiURL + "/v1/erp/changes", http: &http.Client{Timeout: time.Minute}}
	r := Report{Changes: o.Changes, SKUs: o.SKUs, Stores: o.Stores, Platform: o.Platform, Backend: hub.Backend}

	// Burst: every SKU gets versions 1..k in shuffled order, duplicates mixed in.
	plan := burstPlan(o)
	r.Duplicates = len(plan) - o.Changes
	fmt.Fprintf(progress, "burst: posting %d changes (%d duplicates) in batches of %d with %d clients\n", len(plan), r.Duplicates, o.BatchSize, o.Clients)
	start := time.Now()
	sent, err := c.postAll(ctx, plan, o.BatchSize, o.Clients)
	if err != nil {
		return r, err
	}
	r.AcceptSeconds = time.Since(start).Seconds()
	r.ChangesPerS = float64(len(plan)) / r.AcceptSeconds
	for _, s := range sent {
		if s.rejected {
			r.RejectedStale++
		}
	}
	final := o.Changes / o.SKUs
	fmt.Fprintf(progress, "burst: accepted in %.2f s; waiting for the stores to settle\n", r.AcceptSeconds)
	settled := waitSettled(ctx, hub, rec, stores, o.SKUs, func(int) int64 { return int64(final) }, o.Timeout)
	r.SettleSeconds = time.Since(start).Seconds()
	r.StaleFinal = rec.stale(stores, o.SKUs, func(int) int64 { return int64(final) })
	if !settled {
		fmt.Fprintf(progress, "burst: did not settle within %s\n", o.Timeout)
	}
	stats := callStats(sim, stores)
	r.APICalls, r.RateLimited = stats.writes, stats.limited
	r.CallsPerSKU = float64(r.APICalls) / float64(o.SKUs*o.Stores)
	r.BurstP50Ms, r.BurstP99Ms, _ = summarize(rec.latencies(sent, stores))

	// Paced: new versions at a steady offered rate; every change must reach every store.
	if o.PacedChanges > 0 && o.PacedRate > 0 {
		r.PacedChanges, r.PacedRate = o.PacedChanges, o.PacedRate
		rec.reset()
		fmt.Fprintf(progress, "paced: offering %d changes at %d/s\n", o.PacedChanges, o.PacedRate)
		paced, last := pacedPlan(o, final)
		if os.Getenv("PONTE_BENCH_DEBUG") != "" {
			go func() {
				for i := 0; i < 20; i++ {
					time.Sleep(500 * time.Millisecond)
					cs, _ := hub.Changes.Stats(ctx)
					ps, _ := hub.PushQueues["tray"].Stats(ctx)
					fmt.Fprintf(progress, "debug: changes %+v push %+v\n", cs, ps)
				}
			}()
		}
		psent, err := c.postPaced(ctx, paced, o.PacedRate)
		if err != nil {
			return r, err
		}
		lastOf := func(i int) int64 { return last[i] }
		waitSettled(ctx, hub, rec, stores, o.SKUs, lastOf, o.Timeout)
		r.PacedStale = rec.stale(stores, o.SKUs, lastOf)
		after := callStats(sim, stores)
		r.PacedAPICalls = after.writes - stats.writes
		r.RateLimited = after.limited
		r.P50Ms, r.P99Ms, r.MaxMs = summarize(rec.latencies(psent, stores))
	}
	r.PeakRSSMB = peakRSSMB()
	return r, nil
}

// benchStore is one simulated store and where each SKU lives on it.
type benchStore struct {
	id       string
	products []platformsim.Product // by SKU index
}

// seed creates the tenant, one connection per simulated store and the catalogue.
func seed(ctx context.Context, hub *app.Hub, sim platformsim.Simulator, o Options) ([]benchStore, error) {
	setup := app.Setup{
		Tenants: []app.TenantSetup{{ID: tenant, Name: "Bench", APIKey: apiKey, Currency: "BRL"}},
		Secrets: map[string]map[string]string{},
	}
	var stores []benchStore
	for i := 0; i < o.Stores; i++ {
		bs := benchStore{id: "store" + strconv.Itoa(i+1)}
		connID := "bench-" + o.Platform + "-" + strconv.Itoa(i+1)
		reach, err := sim.NewStore(bs.id, o.StoreRPM)
		if err != nil {
			return nil, err
		}
		settings := maps.Clone(reach.Settings)
		if settings == nil {
			settings = map[string]string{}
		}
		// The bench's store sends thousands of notifications a minute: lift the cap the
		// hub keeps on platforms that sign nothing (Tray), as a merchant this busy would.
		settings[orders.SettingUnverifiedPerMinute] = "60000"
		setup.Connections = append(setup.Connections, domain.Connection{
			ID: connID, Tenant: tenant, Platform: o.Platform, Enabled: true, SecretRef: connID, Currency: "BRL",
			Rules: domain.Rules{SyncMode: domain.SyncPriceStock}, Settings: settings,
		})
		setup.Secrets[connID] = reach.Secrets
		for s := 0; s < o.SKUs; s++ {
			p, err := sim.NewProduct(bs.id, skuName(s), 0, decimal.Zero)
			if err != nil {
				return nil, err
			}
			bs.products = append(bs.products, p)
			setup.Mappings = append(setup.Mappings, domain.Mapping{ConnectionID: connID, SKU: skuName(s), ProductID: p.ProductID, VariantID: p.VariantID})
		}
		stores = append(stores, bs)
	}
	if err := hub.ApplySetup(ctx, setup); err != nil {
		return nil, err
	}
	var changes []ingest.Change
	for s := 0; s < o.SKUs; s++ {
		changes = append(changes, ingest.Change{Kind: ingest.KindProduct, SKU: skuName(s), Version: 1,
			Product: &domain.Product{SKU: skuName(s), Name: skuName(s), Publish: true, SyncStock: true, Version: 1}})
		if len(changes) == ingest.MaxBatchChanges || s == o.SKUs-1 {
			if _, err := hub.Ingest.Apply(ctx, tenant, changes); err != nil {
				return nil, err
			}
			changes = changes[:0]
		}
	}
	return stores, nil
}

func skuName(i int) string { return fmt.Sprintf("SKU-%05d", i+1) }
