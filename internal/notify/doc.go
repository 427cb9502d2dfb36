// Package notify delivers a tenant's outgoing events to its webhook endpoints, signed
// per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature "v1,<HMAC>").
//
// Two steps, joined by a queue, so an order is never held up by a slow receiver:
//
//   - Publisher fans each event out to the tenant's enabled endpoints subscribed to its
//     type: one queue message per (endpoint, event), keyed endpoint|event so a repeated
//     publish of the same event coalesces while the first copy still waits.
//   - Dispatcher (a worker.Handler) delivers one message: it re-reads the tenant, so an
//     endpoint removed or disabled since the publish is dropped, signs the body with the
//     endpoint's secret and POSTs it. The answer decides: 2xx done; 408, 425, 429, 5xx,
//     network errors and timeouts retry (obeying Retry-After); 410 and other 4xx go to
//     the dead letters with a readable reason.
//
// The webhook-id is the event id, the same on every retry, so a receiver de-duplicates.
// The ERP's push intake of orders is an endpoint with ERPOrders set: its 2xx answer to
// order.accepted registers the order (with {"erp_order_number": ...} when the body has
// one) through Acker, exactly as the pull API's ack would.
package notify
