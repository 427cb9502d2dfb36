// Command webhooks is the Lambda behind POST /v1/webhooks/{platform}/{connection}: it verifies, stores and queues platform deliveries (the same HTTP handler as erp-api).
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
	lambda.Start(hub.HTTPFunction())
}
