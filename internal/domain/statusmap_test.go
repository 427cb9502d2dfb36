package domain

import "testing"

func TestStatusMapDecide(t *testing.T) {
	paidOnly := StatusMap{Import: []string{"Paid", "approved"}, Reserve: []string{"pending"}, Reject: []string{"fraud"}}
	tests := []struct {
		name   string
		m      StatusMap
		status string
		want   OrderAction
	}{
		{"empty map imports anything", StatusMap{}, "Aguardando pagamento", ActionImport},
		{"empty map cancels the usual words", StatusMap{}, "CANCELADO", ActionCancel},
		{"empty map cancels anything saying cancel", StatusMap{}, "Cancelled by merchant", ActionCancel},
		{"refunded cancels", StatusMap{}, "refunded", ActionCancel},
		{"listed import, case and space ignored", paidOnly, "  paid ", ActionImport},
		{"reserve-only status holds", paidOnly, "Pending", ActionHold},
		{"unlisted status waits", paidOnly, "awaiting_payment", ActionWait},
		{"reject list", paidOnly, "FRAUD", ActionReject},
		{"explicit cancel list replaces the defaults", StatusMap{Cancel: []string{"x-void"}}, "cancelled", ActionImport},
		{"explicit cancel list matches", StatusMap{Cancel: []string{"x-void"}}, "X-Void", ActionCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Decide(tc.status); got != tc.want {
				t.Fatalf("Decide(%q) = %s, want %s", tc.status, got, tc.want)
			}
		})
	}
}

func TestWriteBackStatus(t *testing.T) {
	m := StatusMap{Received: "em_separacao", WriteBack: map[string]string{"shipped": "enviado"}}
	for hub, want := range map[string]string{"received": "em_separacao", "shipped": "enviado", "invoiced": ""} {
		if got := m.WriteBackStatus(hub); got != want {
			t.Errorf("WriteBackStatus(%q) = %q, want %q", hub, got, want)
		}
	}
}

func TestOrderIDIsStableAndURLSafe(t *testing.T) {
	a := OrderID("c1", "gid://shopify/Order/1")
	if a != OrderID("c1", "gid://shopify/Order/1") {
		t.Fatal("OrderID is not deterministic")
	}
	if a == OrderID("c2", "gid://shopify/Order/1") || a == OrderID("c1", "gid://shopify/Order/2") {
		t.Fatal("OrderID collides across connections or orders")
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("OrderID %q has %q", a, r)
		}
	}
}
