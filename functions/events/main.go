// Command events is the Lambda consuming the FIFO events queue: signed outgoing webhooks, one endpoint at a time per group.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.EventsFunction(), nil })
}
