package catalog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// MaxListed caps each list of a report; the counts are always complete.
const MaxListed = 500

// How an item or customer was matched (Entry.MatchedBy).
const (
	BySKU      = "sku"
	ByEAN      = "ean"
	ByCode     = "additional_code"
	ByDocument = "document"
	ByEmail    = "email"
	// ByMapping: the ERP SKU is already linked to another item of the store.
	ByMapping = "mapping"
	// ByLink: the ERP customer is already linked to another customer of the store.
	ByLink = "link"
)

// Report is a first sync's outcome, stored as its job's report (complete when the job is done).
type Report struct {
	ConnectionID string `json:"connection"`
	Platform     string `json:"platform,omitempty"`
	// Pending: the job waits for a worker (Start made it, no Run has claimed it yet).
	Pending bool `json:"pending,omitempty"`
	// Runs counts the Runs that worked on the job (more than one: it was resumed).
	Runs      int        `json:"runs"`
	Pages     int        `json:"pages"`
	Products  Counts     `json:"products"`
	Customers *Customers `json:"customers,omitempty"`
	// Categories are the distinct categories seen on the store (at most MaxListed).
	Categories []string `json:"categories,omitempty"`
	// LastError is the error that stopped the latest Run (the job then waits to be resumed).
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Counts are one section's totals and its capped lists.
type Counts struct {
	Checked       int `json:"checked"`
	AlreadyLinked int `json:"already_linked"`
	LinkedBySKU   int `json:"linked_by_sku"`
	LinkedByEAN   int `json:"linked_by_ean"`
	LinkedByCode  int `json:"linked_by_code"`
	Imported      int `json:"imported"`
	Ambiguous     int `json:"ambiguous"`
	Unmatched     int `json:"unmatched"`
	Failed        int `json:"failed"`

	AmbiguousItems []Entry `json:"ambiguous_items,omitempty"`
	UnmatchedItems []Entry `json:"unmatched_items,omitempty"`
	FailedItems    []Entry `json:"failed_items,omitempty"`
}

// Customers is the customer section: platform customers linked to ERP customers.
type Customers struct {
	Checked          int `json:"checked"`
	AlreadyLinked    int `json:"already_linked"`
	LinkedByDocument int `json:"linked_by_document"`
	LinkedByEmail    int `json:"linked_by_email"`
	Ambiguous        int `json:"ambiguous"`
	Unmatched        int `json:"unmatched"`
	Failed           int `json:"failed"`

	AmbiguousItems []CustomerEntry `json:"ambiguous_items,omitempty"`
	UnmatchedItems []CustomerEntry `json:"unmatched_items,omitempty"`
	FailedItems    []CustomerEntry `json:"failed_items,omitempty"`
}

// Entry is one store item the sync could not link, and why.
type Entry struct {
	SKU       string `json:"sku,omitempty"`
	EAN       string `json:"ean,omitempty"`
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id,omitempty"`
	Name      string `json:"name,omitempty"`
	// Code is the code that matched several ERP products (ambiguous), MatchedBy how.
	Code       string   `json:"code,omitempty"`
	MatchedBy  string   `json:"matched_by,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// CustomerEntry is one store customer the sync could not link. Documents are shown
// masked (last digits only): the report is an operator's view, not a data export.
type CustomerEntry struct {
	PlatformID string   `json:"platform_id"`
	Name       string   `json:"name,omitempty"`
	Document   string   `json:"document,omitempty"`
	MatchedBy  string   `json:"matched_by,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// ParseReport reads a first-sync job's report (zero Report when the job has none yet).
func ParseReport(j store.Job) (Report, error) {
	var r Report
	if len(j.Report) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(j.Report, &r); err != nil {
		return Report{}, fmt.Errorf("first sync job %s: decode report: %w", j.ID, err)
	}
	return r, nil
}

func add[T any](list []T, v T) []T {
	if len(list) >= MaxListed {
		return list
	}
	return append(list, v)
}

func maskDocument(d string) string {
	if len(d) <= 4 {
		return d
	}
	return "..." + d[len(d)-4:]
}
