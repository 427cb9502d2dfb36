// Package orders takes platform orders in and hands them to the ERP: verified webhook
// intake that stores each raw delivery before acknowledging it, polling intake, one
// record per (connection, platform order id), validation with readable rejections,
// stock reservations that re-run fan-out, purchase needs, the ERP's pull and ack, ERP
// status changes written back to the platform, and outgoing events via a transactional
// outbox on the order record.
package orders

import (
	"errors"
	"time"
)

const (
	defaultSweepAge        = 30 * time.Second
	defaultBacklogSweepAge = 15 * time.Minute
)

var (
	// ErrUnknownConnection: no enabled connection with that id on that platform (HTTP 404).
	ErrUnknownConnection = errors.New("unknown connection")
	// ErrBadSignature: the delivery failed the platform's signature check (HTTP 401).
	ErrBadSignature = errors.New("webhook signature check failed")
	// ErrTransition: the order cannot take that step in its current state (HTTP 409).
	ErrTransition = errors.New("order cannot take that step now")
	// ErrStaleStatus: an order_status change older than the one applied (ignored).
	ErrStaleStatus = errors.New("a newer order_status version is applied")
)

// Receipt is what intake tells the platform's HTTP call.
type Receipt struct {
	DeliveryID string `json:"delivery_id"`
	// Duplicate is true when this delivery was already stored (it is not queued twice).
	Duplicate bool `json:"duplicate"`
	// Ignored is true for verified deliveries the hub does not act on (pings, other topics).
	Ignored bool `json:"ignored,omitempty"`
	// Unparsed says why a verified delivery could not be read: it is stored and in the
	// failure inbox, to be replayed once the parser is fixed.
	Unparsed string `json:"unparsed,omitempty"`
}

// Ack is the ERP's answer for an offered order: its own order number, or a refusal.
type Ack struct {
	ERPOrderNumber string `json:"erp_order_number,omitempty"`
	Rejected       bool   `json:"rejected,omitempty"`
	Reason         string `json:"reason,omitempty"`
}
