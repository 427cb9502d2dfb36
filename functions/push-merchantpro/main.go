// Command push-merchantpro is the Lambda consuming MerchantPro's FIFO push queue (one store at a time per group).
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.PushFunction("merchantpro") })
}
