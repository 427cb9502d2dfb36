package traysim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Invoice is an NF-e the store holds for an order (POST /orders/{id}/invoices).
type Invoice struct {
	ID, OrderID, IssueDate, Number, Serie, Value, Key, Link, XMLDanfe string
}

func (inv Invoice) json() map[string]any {
	return map[string]any{"id": inv.ID, "order_id": inv.OrderID, "issue_date": inv.IssueDate,
		"number": inv.Number, "serie": inv.Serie, "value": inv.Value, "key": inv.Key,
		"link": inv.Link, "xml_danfe": inv.XMLDanfe}
}

// Invoices returns the invoices written for an order, oldest first.
func (s *Server) Invoices(storeID, orderID string) []Invoice {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]Invoice(nil), st.invoices[orderID]...)
}

// listInvoices answers GET /orders/{id}/invoices in Tray's shape.
func (s *Server) listInvoices(w http.ResponseWriter, st *store, orderID string) {
	st.data.Lock()
	_, ok := st.orders[orderID]
	items := []map[string]any{}
	for _, inv := range st.invoices[orderID] {
		items = append(items, map[string]any{"OrderInvoice": inv.json(), "ProductCfop": []any{}})
	}
	st.data.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Order not found", 0)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"OrderInvoices": items})
}

// postInvoice creates an invoice as Tray documents it: issue_date (aaaa-mm-dd), number,
// serie and value are required; key, when given, is the 44-digit NF-e access key. The
// order's complete view gains it under OrderInvoice, has_invoice turns "1" and modified
// is stamped. Answers 201 {"message":"Created","id":...,"code":201}.
func (s *Server) postInvoice(w http.ResponseWriter, st *store, orderID string, body map[string]json.RawMessage) {
	inv := Invoice{OrderID: orderID, IssueDate: str(body, "issue_date", ""), Number: str(body, "number", ""),
		Serie: str(body, "serie", ""), Key: str(body, "key", ""), Link: str(body, "link", ""), XMLDanfe: str(body, "xml_danfe", "")}
	var causes []string
	if _, err := time.Parse(time.DateOnly, inv.IssueDate); err != nil {
		causes = append(causes, "issue_date must be aaaa-mm-dd")
	}
	if strings.TrimSpace(inv.Number) == "" {
		causes = append(causes, "number is required")
	}
	if strings.TrimSpace(inv.Serie) == "" {
		causes = append(causes, "serie is required")
	}
	if raw, ok := body["value"]; !ok {
		causes = append(causes, "value is required")
	} else if d, err := num(raw); err != nil || d.IsNegative() {
		causes = append(causes, "value must be a non-negative decimal")
	} else {
		inv.Value = d.StringFixed(2)
	}
	if inv.Key != "" && (len(inv.Key) != 44 || strings.Trim(inv.Key, "0123456789") != "") {
		causes = append(causes, "key must be the 44-digit access key")
	}
	if len(causes) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Bad Request", "causes": causes, "code": http.StatusBadRequest})
		return
	}
	st.data.Lock()
	doc, ok := st.orders[orderID]
	if !ok {
		st.data.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Order not found", 0)
		return
	}
	st.nextInvoice++
	inv.ID = strconv.Itoa(st.nextInvoice)
	st.invoices[orderID] = append(st.invoices[orderID], inv)
	o := doc["Order"].(map[string]any)
	list, _ := o["OrderInvoice"].([]any)
	o["OrderInvoice"] = append(list, map[string]any{"OrderInvoice": inv.json(), "ProductCfop": []any{}})
	o["has_invoice"] = "1"
	o["modified"] = s.trayDateTime(s.opts.Now())
	st.data.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"message": "Created", "id": inv.ID, "code": http.StatusCreated})
}
