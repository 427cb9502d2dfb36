// Command fanout is the Lambda consuming the changes queue: it computes desired states and queues pushes.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.FanoutFunction(), nil })
}
