package ingest

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/ponte-hub/ponte/internal/domain"
)

const (
	maxOrderIDLen = 128
	maxURLLen     = 2048
)

// decodeOrderStatus validates an order_status change: order_id is its key (same rules as
// a SKU), the status is one of the four fulfilment steps, and each step carries what the
// platform needs to show it (an invoice number, a tracking code).
func decodeOrderStatus(i int, r rawChange) (Change, *Rejection) {
	var id string
	reject := func(field, format string, args ...any) (Change, *Rejection) {
		return Change{}, &Rejection{Index: i, OrderID: id, Field: field, Error: fmt.Sprintf(format, args...)}
	}
	if r.OrderID == nil || strings.TrimSpace(*r.OrderID) == "" {
		return reject("order_id", "required: the hub's order id (ord_…)")
	}
	id = strings.TrimSpace(*r.OrderID)
	if err := checkKey(id, maxOrderIDLen); err != nil {
		id = ""
		return reject("order_id", "%s", err)
	}
	version, err := parseVersion(r.Version)
	if err != nil {
		return reject("version", "%s", err)
	}
	var status string
	if r.Status != nil {
		status = strings.ToLower(strings.TrimSpace(*r.Status))
	}
	switch status {
	case domain.FulfilInvoiced, domain.FulfilShipped, domain.FulfilDelivered, domain.FulfilCancelled:
	case "":
		return reject("status", "required: one of invoiced, shipped, delivered, cancelled")
	default:
		return reject("status", "unknown status %q: one of invoiced, shipped, delivered, cancelled", truncate(status))
	}
	var u domain.OrderStatusUpdate
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
		url  bool
	}{{"invoice_number", r.InvoiceNumber, &u.InvoiceNumber, false}, {"invoice_key", r.InvoiceKey, &u.InvoiceKey, false},
		{"invoice_url", r.InvoiceURL, &u.InvoiceURL, true}, {"tracking_code", r.TrackingCode, &u.TrackingCode, false},
		{"tracking_url", r.TrackingURL, &u.TrackingURL, true}, {"carrier", r.Carrier, &u.Carrier, false}} {
		if f.src == nil {
			continue
		}
		v := strings.TrimSpace(*f.src)
		if f.url {
			if err := checkURL(v); err != nil {
				return reject(f.name, "%s", err)
			}
		} else if err := checkLine(v, maxFieldLen); err != nil {
			return reject(f.name, "%s", err)
		}
		*f.dst = v
	}
	switch {
	case status == domain.FulfilInvoiced && u.InvoiceNumber == "":
		return reject("invoice_number", "required when status is invoiced")
	case status == domain.FulfilShipped && u.TrackingCode == "":
		return reject("tracking_code", "required when status is shipped")
	}
	return Change{Index: i, Kind: KindOrderStatus, Version: version,
		OrderStatus: &domain.OrderStatusChange{OrderID: id, Status: status, Version: version, Update: u}}, nil
}

// checkURL accepts an absolute http(s) URL: platforms render it as a link to the buyer.
func checkURL(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxURLLen {
		return fmt.Errorf("at most %d bytes", maxURLLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || invisible(r) }) >= 0 {
		return fmt.Errorf("must be an absolute http or https URL without spaces or control characters")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %s", truncate(s))
	}
	return nil
}
