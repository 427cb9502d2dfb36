package tray

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
)

// nfeKeyLen is the length of a Brazilian NF-e access key (chave de acesso).
const nfeKeyLen = 44

// writeInvoice records the order's NF-e on Tray: POST /orders/{id}/invoices with
// issue_date, number, serie, value, key and link. Tray requires serie and value, which
// the hub's update does not carry: serie (and number, when only the key is given) are
// read from the NF-e key, whose digits 23-25 are the series and 26-34 the number;
// value is the order's total (GET /orders/{id}). An invoice already on the order
// (same key, or same number and serie) is not written twice, so a retried write-back
// is harmless.
func (c *Connector) writeInvoice(ctx context.Context, conn domain.Connection, s settings, orderID string, u domain.OrderStatusUpdate) error {
	const op = "write_invoice"
	key := domain.Digits(u.InvoiceKey)
	if u.InvoiceKey != "" && len(key) != nfeKeyLen {
		return permanent(op, "order %s: invoice key has %d digits, an NF-e key has %d", orderID, len(key), nfeKeyLen)
	}
	number, serie := strings.TrimSpace(u.InvoiceNumber), ""
	if key != "" {
		serie = trimZeros(key[22:25])
		if number == "" {
			number = trimZeros(key[25:34])
		}
	}
	if serie == "" {
		serie = s.invoiceSerie
	}
	id := url.PathEscape(orderID)
	notFound := fmt.Sprintf("order %s not found on Tray", orderID)

	r := request{op: op, method: http.MethodGet, path: "/orders/" + id + "/invoices", notFound: notFound}
	resp, err := c.do(ctx, conn, s, r)
	if err != nil {
		return err
	}
	var have struct {
		OrderInvoices json.RawMessage `json:"OrderInvoices"`
	}
	if err := json.Unmarshal(resp.body, &have); err != nil {
		return transient(op, "GET %s: unexpected body (%s)", r.path, snippet(resp.body))
	}
	for _, inv := range asList[struct {
		Number flexString `json:"number"`
		Serie  flexString `json:"serie"`
		Key    flexString `json:"key"`
	}](have.OrderInvoices, "OrderInvoice") {
		if (key != "" && domain.Digits(inv.Key.Str()) == key) ||
			(trimZeros(inv.Number.Str()) == trimZeros(number) && trimZeros(inv.Serie.Str()) == serie) {
			return nil
		}
	}

	r = request{op: op, method: http.MethodGet, path: "/orders/" + id, notFound: notFound}
	if resp, err = c.do(ctx, conn, s, r); err != nil {
		return err
	}
	var ord struct {
		Order struct {
			Total flexString `json:"total"`
		} `json:"Order"`
	}
	if err := json.Unmarshal(resp.body, &ord); err != nil {
		return transient(op, "GET %s: unexpected body (%s)", r.path, snippet(resp.body))
	}
	total, err := moneyField(ord.Order.Total, s.currency)
	if err != nil {
		return transient(op, "GET %s: Order.total: %v", r.path, err)
	}
	at := u.At
	if at.IsZero() {
		at = c.opts.Now()
	}
	body, err := json.Marshal(map[string]string{
		"issue_date": at.In(c.sp).Format("2006-01-02"), "number": number, "serie": serie,
		"value": total.Amount.StringFixed(2), "key": key, "link": strings.TrimSpace(u.InvoiceURL),
	})
	if err != nil {
		return permanent(op, "encoding body: %v", err)
	}
	r = request{op: op, method: http.MethodPost, path: "/orders/" + id + "/invoices", body: body, notFound: notFound}
	if resp, err = c.do(ctx, conn, s, r); err != nil {
		return err
	}
	var ok struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(resp.body, &ok) != nil || !strings.EqualFold(ok.Message, "Created") {
		return transient(op, "POST %s: HTTP %d with an unexpected body (%s)", r.path, resp.status, snippet(resp.body))
	}
	return nil
}

// trimZeros drops an invoice number's or series' leading zeros ("001" is series 1).
func trimZeros(s string) string {
	t := strings.TrimLeft(strings.TrimSpace(s), "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}
