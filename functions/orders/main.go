// Command orders is the Lambda consuming the orders queue: deliveries, status write-backs and reservation releases.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ponte-hub/ponte/internal/app"
)

func main() {
	log := app.Logger()
	hub, err := app.OpenAWS(context.Background(), app.AWSConfigFromEnv(), log)
	if err != nil {
		log.Error("start failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(hub.OrdersFunction())
}
