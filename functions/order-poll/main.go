// Command order-poll is the scheduled Lambda polling platforms without webhooks for orders and re-queueing stalled deliveries.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.OrderPollFunction(), nil })
}
