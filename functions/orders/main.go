// Command orders is the Lambda consuming the orders queue: deliveries, status write-backs and reservation releases.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.OrdersFunction(), nil })
}
