// Command push-woocommerce is the Lambda consuming WooCommerce's FIFO push queue (one store at a time per group).
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.PushFunction("woocommerce") })
}
