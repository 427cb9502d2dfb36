package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/queue"
)

// OpenAWS honours the SDK's standard endpoint variables (AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>), and PONTE_AWS_ENDPOINT, when set, wins over them. Each case
// points the variables it does not test at a closed port, so a hub that reached the
// emulator can only have done so through the endpoint the case names.
func TestOpenAWSEndpoints(t *testing.T) {
	emulator := awsEndpoint(t)
	const closed = "http://127.0.0.1:1"
	cases := []struct {
		name     string
		override string // AWSConfig.Endpoint (PONTE_AWS_ENDPOINT)
		env      map[string]string
	}{
		{"PONTE_AWS_ENDPOINT alone", emulator, nil},
		{"AWS_ENDPOINT_URL", "", map[string]string{"AWS_ENDPOINT_URL": emulator}},
		{"AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL", "", map[string]string{
			"AWS_ENDPOINT_URL":                 closed,
			"AWS_ENDPOINT_URL_DYNAMODB":        emulator,
			"AWS_ENDPOINT_URL_SQS":             emulator,
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": emulator,
		}},
		{"PONTE_AWS_ENDPOINT over AWS_ENDPOINT_URL_<SERVICE>", emulator, map[string]string{
			"AWS_ENDPOINT_URL":                 closed,
			"AWS_ENDPOINT_URL_DYNAMODB":        closed,
			"AWS_ENDPOINT_URL_SQS":             closed,
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": closed,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Credentials from the environment only; no profile files from the machine.
			dir := t.TempDir()
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
				v, ok := tc.env[k]
				t.Setenv(k, v) // restored after the test
				if !ok {
					os.Unsetenv(k)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := unique("ponte-endpoint")
			hub, err := app.OpenAWS(ctx, app.AWSConfig{
				Endpoint: tc.override, Region: "us-east-1", Create: true, NamePrefix: name, Table: name,
				PushQueueURLs: map[string]string{}, PushDLQURLs: map[string]string{}, SecretsPrefix: name + "/",
			}, quietLogger())
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer hub.Close()
			// Every service answers: DynamoDB (setup), SQS (send and stats), Secrets Manager.
			if err := hub.Changes.Send(ctx, queue.OutMessage{Body: []byte("x")}); err != nil {
				t.Fatalf("SQS: %v", err)
			}
			if err := hub.Secrets.PutSecret(ctx, "tray/c1", map[string]string{"k": "v"}); err != nil {
				t.Fatalf("Secrets Manager: %v", err)
			}
			if got, err := hub.Secrets.GetSecret(ctx, "tray/c1"); err != nil || got["k"] != "v" {
				t.Fatalf("Secrets Manager read: %v %v", got, err)
			}
			if _, err := hub.Store.ListTenants(ctx); err != nil {
				t.Fatalf("DynamoDB: %v", err)
			}
		})
	}
}
