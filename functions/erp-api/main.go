// Command erp-api is the Lambda behind the HTTP API: the ERP change endpoint and the admin views.
package main

import "github.com/ponte-hub/ponte/internal/app"

func main() {
	app.StartLambda(func(h *app.Hub) (any, error) { return h.HTTPFunction(), nil })
}
