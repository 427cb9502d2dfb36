package reconcile

import "time"

// MaxListed caps each SKU list of a report.
const MaxListed = 100

// Report is the outcome of one connection's run, stored as its job's report.
type Report struct {
	ConnectionID string `json:"connection"`
	Tenant       string `json:"tenant,omitempty"`
	Platform     string `json:"platform,omitempty"`
	// Job is the stored job of the run; Resumed counts the times it continued a crashed run.
	Job        string    `json:"job,omitempty"`
	Resumed    int       `json:"resumed,omitempty"`
	DryRun     bool      `json:"dry_run,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Pages      int       `json:"pages"`
	// Checked counts the catalogue items read (mapped or not).
	Checked int `json:"checked"`
	// Drifted counts mapped items whose stock or price differs from the desired state.
	Drifted int `json:"drifted"`
	// Corrected counts drifted SKUs whose correction was queued.
	Corrected int `json:"corrected"`
	// Held counts drifted SKUs whose price correction push's price-drop guard will hold
	// back (it dead-letters the price for a person); their stock is still corrected.
	Held int `json:"held"`
	// Failed counts items that could not be compared or corrected.
	Failed   int `json:"failed"`
	Unmapped int `json:"unmapped"`
	// The lists hold at most MaxListed entries each; the counts are complete.
	DriftedSKUs   []string  `json:"drifted_skus,omitempty"`
	HeldSKUs      []HeldSKU `json:"held_skus,omitempty"`
	FailedSKUs    []string  `json:"failed_skus,omitempty"`
	UnmappedItems []string  `json:"unmapped_items,omitempty"`
	// Error is the error that stopped the run, if any (the counts are those so far).
	Error string `json:"error,omitempty"`
}

// HeldSKU is a SKU whose correction will not be fully pushed, and why.
type HeldSKU struct {
	SKU    string `json:"sku"`
	Reason string `json:"reason"`
}

// ReasonPriceDrop prefixes the reason of a SKU held by the price-drop guard.
const ReasonPriceDrop = "price drop guard"

func add[T any](list []T, v T) []T {
	if len(list) >= MaxListed {
		return list
	}
	return append(list, v)
}
