// Package bench drives bursts of ERP changes through a whole local hub (HTTP API, embedded
// store and queues, workers, connector) into platform simulators, and measures what a
// merchant cares about: accepted throughput, propagation latency, platform calls per
// change and whether any store ends on a stale value.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Options shape a run.
type Options struct {
	Changes int
	SKUs    int
	Stores  int
	// DuplicatePct re-sends this share of changes a second time.
	DuplicatePct int
	// BatchSize changes per POST; Clients post in parallel.
	BatchSize int
	Clients   int
	// PacedChanges at PacedRate per second measure latency under a steady offered load.
	PacedChanges int
	PacedRate    int
	// StoreRPM is each simulated store's rate limit and the connection's configured one.
	StoreRPM int
	Platform string
	DataDir  string
	Seed     int64
	Timeout  time.Duration
}

// Defaults are the issue's: 100,000 changes over 1,000 SKUs and 3 stores.
var Defaults = Options{Changes: 100_000, SKUs: 1_000, Stores: 3, DuplicatePct: 5, BatchSize: 1000, Clients: 4,
	PacedChanges: 10_000, PacedRate: 1_000, StoreRPM: 600_000, Platform: "tray", Seed: 1, Timeout: 5 * time.Minute}

// Report is the outcome.
type Report struct {
	Changes    int    `json:"changes"`
	Duplicates int    `json:"duplicates_sent"`
	SKUs       int    `json:"skus"`
	Stores     int    `json:"stores"`
	Platform   string `json:"platform"`
	Backend    string `json:"backend"`
	// Burst phase.
	AcceptSeconds float64 `json:"accept_s"`
	ChangesPerS   float64 `json:"changes_per_s"`
	SettleSeconds float64 `json:"settle_s"`
	APICalls      int64   `json:"api_calls"`
	CallsPerSKU   float64 `json:"api_calls_per_sku_store"`
	StaleFinal    int     `json:"stale_final"`
	RateLimited   int64   `json:"rate_limited_429"`
	BurstP50Ms    float64 `json:"burst_p50_ms"`
	BurstP99Ms    float64 `json:"burst_p99_ms"`
	RejectedStale int     `json:"rejected_older_version"`
	// Paced phase: the latency figures.
	PacedChanges  int     `json:"paced_changes"`
	PacedRate     int     `json:"paced_rate_per_s"`
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	PacedAPICalls int64   `json:"paced_api_calls"`
	PacedStale    int     `json:"paced_stale_final"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
}

// Print writes the table and, as the last line, the JSON object.
func (r Report) Print(w io.Writer) {
	rows := [][2]string{
		{"backend / platform", r.Backend + " / " + r.Platform},
		{"changes (dups sent)", fmt.Sprintf("%d (%d)", r.Changes, r.Duplicates)},
		{"skus x stores", fmt.Sprintf("%d x %d", r.SKUs, r.Stores)},
		{"burst: accepted changes/s", fmt.Sprintf("%.0f (%.2f s)", r.ChangesPerS, r.AcceptSeconds)},
		{"burst: settled after", fmt.Sprintf("%.2f s", r.SettleSeconds)},
		{"burst: platform calls", fmt.Sprintf("%d (%.2f per sku x store)", r.APICalls, r.CallsPerSKU)},
		{"burst: latency p50 / p99", fmt.Sprintf("%.1f / %.1f ms", r.BurstP50Ms, r.BurstP99Ms)},
		{"burst: older versions rejected", fmt.Sprintf("%d", r.RejectedStale)},
		{"stale values at the end", fmt.Sprintf("%d", r.StaleFinal)},
		{"429 answers", fmt.Sprintf("%d", r.RateLimited)},
		{fmt.Sprintf("paced %d/s: latency p50 / p99 / max", r.PacedRate), fmt.Sprintf("%.1f / %.1f / %.1f ms", r.P50Ms, r.P99Ms, r.MaxMs)},
		{"paced: platform calls, stale", fmt.Sprintf("%d, %d", r.PacedAPICalls, r.PacedStale)},
		{"peak RSS", fmt.Sprintf("%.0f MB", r.PeakRSSMB)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-40s %s\n", row[0], row[1])
	}
	b, _ := json.Marshal(r)
	fmt.Fprintln(w, string(b))
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func summarize(lat []float64) (p50, p99, max float64) {
	sort.Float64s(lat)
	if len(lat) == 0 {
		return 0, 0, 0
	}
	return percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
}
