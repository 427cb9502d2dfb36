// Command webhooks is the Lambda behind POST /v1/webhooks/{platform}/{connection}: it verifies, stores and queues platform deliveries (the same HTTP handler as erp-api).
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.HTTPFunction(), nil })
}
