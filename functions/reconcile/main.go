// Command reconcile is the scheduled Lambda reading stock and prices back from the platforms and queueing corrections.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.ReconcileFunction(), nil })
}
