package domain

import (
	"slices"
	"strings"
)

// OrderAction is what a connection's status map makes of a platform status.
type OrderAction string

const (
	// ActionImport accepts the order: reserve its stock and offer it to the ERP.
	ActionImport OrderAction = "import"
	// ActionHold keeps the order waiting but reserves its stock (e.g. awaiting payment).
	ActionHold OrderAction = "hold"
	// ActionWait keeps the order waiting without a reservation.
	ActionWait OrderAction = "wait"
	// ActionReject records the order as rejected.
	ActionReject OrderAction = "reject"
	// ActionCancel cancels the order and releases its reservation.
	ActionCancel OrderAction = "cancel"
)

// defaultCancelWords are platform statuses that mean "cancelled" on the platforms we
// know, used when a connection's map lists no cancel statuses.
var defaultCancelWords = []string{"cancelled", "canceled", "cancelado", "cancelada", "refunded", "voided",
	"failed", "estornado", "reembolsado", "expired", "denied"}

// Decide maps a platform status to an action. Matching ignores case and surrounding space.
// Empty lists mean: every status imports, the usual cancel words cancel, none is rejected.
func (m StatusMap) Decide(platformStatus string) OrderAction {
	s := normStatus(platformStatus)
	switch {
	case m.isCancel(s):
		return ActionCancel
	case containsStatus(m.Reject, s):
		return ActionReject
	case len(m.Import) == 0 || containsStatus(m.Import, s):
		return ActionImport
	case containsStatus(m.Reserve, s):
		return ActionHold
	}
	return ActionWait
}

func (m StatusMap) isCancel(s string) bool {
	if len(m.Cancel) > 0 {
		return containsStatus(m.Cancel, s)
	}
	if slices.Contains(defaultCancelWords, s) {
		return true
	}
	return strings.Contains(s, "cancel")
}

// WriteBackStatus is the platform status to write for a hub fulfilment status (invoiced,
// shipped, delivered, cancelled) or "received" after capture; "" means none is configured.
func (m StatusMap) WriteBackStatus(hubStatus string) string {
	if hubStatus == "received" && m.Received != "" {
		return m.Received
	}
	return m.WriteBack[hubStatus]
}

func containsStatus(list []string, s string) bool {
	for _, v := range list {
		if normStatus(v) == s {
			return true
		}
	}
	return false
}

func normStatus(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
