package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

// A platform call that hangs is cut DeadlineReserve before the invocation's deadline,
// so the steps after it still run inside the invocation: the message is handed back for
// a retry, and the retry is logged with its error and counted. Without the budget the
// call would hang past the deadline (Tray's client waits 10 s), and Lambda would end the
// invocation with nothing settled, logged or counted.
func TestPushCutsAHungPlatformCallBeforeTheDeadline(t *testing.T) {
	hub := openEmbedded(t)
	sim := seedDemo(t, hub)
	ctx := context.Background()
	var logs bytes.Buffer
	hub.Log = slog.New(slog.NewJSONHandler(&logs, nil))

	// A change fans out to a push message for demo-tray-1.
	if resp, err := hub.HTTPFunction()(ctx, loadEvent[events.APIGatewayV2HTTPRequest](t, "erp-api/post-changes.json")); err != nil || resp.StatusCode != 202 {
		t.Fatalf("post changes: %d %s (%v)", resp.StatusCode, resp.Body, err)
	}
	if resp, err := hub.FanoutFunction()(ctx, loadEvent[events.SQSEvent](t, "fanout/changes.json")); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("fan-out: %+v %v", resp, err)
	}
	msg := receivePush(t, hub.PushQueues["tray"])

	// The store stops answering: every request hangs for a minute.
	sim.InjectFault(demoStore, traysim.Fault{Kind: traysim.FaultHang, Delay: time.Minute, Count: 100})
	pushFn, err := hub.PushFunction("tray")
	if err != nil {
		t.Fatal(err)
	}
	invocation, cancel := context.WithDeadline(ctx, time.Now().Add(app.DeadlineReserve+2*time.Second))
	defer cancel()
	resp, err := pushFn(invocation, asDelivered(loadEvent[events.SQSEvent](t, "push-tray/push.json"), msg))
	if invocation.Err() != nil {
		t.Fatalf("the push function returned after the invocation's deadline (%v): the hung call was not cut", invocation.Err())
	}
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != msg.ID {
		t.Fatalf("push function: %+v %v, want the message reported for a retry", resp, err)
	}
	if !strings.Contains(logs.String(), `"msg":"message retry scheduled"`) || !strings.Contains(logs.String(), `"err":`) {
		t.Errorf("no retry logged with its error:\n%s", logs.String())
	}
	var prom bytes.Buffer
	if err := hub.Metrics.WritePrometheus(ctx, &prom); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prom.String(), `ponte_message_retries_total{queue="`+hub.PushQueues["tray"].Name()+`"} 1`) {
		t.Errorf("retry not counted:\n%s", prom.String())
	}
}
