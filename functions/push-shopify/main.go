// Command push-shopify is the Lambda consuming Shopify's FIFO push queue (one store at a time per group).
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
	handler, err := hub.PushFunction("shopify")
	if err != nil {
		log.Error("start failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
