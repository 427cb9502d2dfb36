package topology

import "time"

// orderFunctions declares the order flow's functions (design flows 4 and 5): webhook
// intake, the orders-queue worker, outgoing webhooks and the scheduled poll. Every
// function that runs the order use case may move reservations (changes queue), queue
// its own follow-up work (orders queue) and publish order events (events queue).
func orderFunctions(platformNames []string, env []EnvVar, table Permission,
	secretsOf func([]string, ...string) Permission, send func(...string) []QueueUse, consume func(string) QueueUse,
) []Function {
	platformSecrets := func(actions []string) []Permission {
		if len(platformNames) == 0 {
			return nil
		}
		return []Permission{secretsOf(actions, platformNames...)}
	}

	// webhooks: verifies a delivery with the connection's credentials (read only),
	// stores it and queues it; short, like erp-api, because platforms time out fast.
	hook := function(WebhooksID, "webhooks", 256, 10*time.Second, Trigger{Kind: TriggerHTTP}, env)
	hook.Description = "Ponte platform webhooks: verify, store, queue order deliveries"
	hook.ReservedConcurrency = HTTPReservedConcurrency
	hook.QueueUses = send(OrdersQueueID)
	hook.Permissions = append(hook.Permissions, table)
	hook.Permissions = append(hook.Permissions, platformSecrets(SecretReadActions)...)

	// orders: fetches thin orders and writes statuses back with the platform's
	// credentials (tokens refreshed in place), re-queues its own write-backs and
	// releases, and dead-letters to its DLQ.
	ord := function(OrdersID, "orders", 256, ConsumerTimeout, Trigger{Kind: TriggerQueue, Queue: OrdersQueueID, BatchSize: 10, MaxConcurrency: ConsumerMaxConcurrency}, env)
	ord.Description = "Ponte orders: deliveries, write-backs, reservation releases"
	ord.QueueUses = append([]QueueUse{consume(OrdersQueueID)}, send(OrdersQueueID, ChangesQueueID, EventsQueueID)...)
	ord.Permissions = append(ord.Permissions, table)
	ord.Permissions = append(ord.Permissions, platformSecrets(SecretWriteActions)...)

	// events: signs and posts outgoing webhooks. Endpoint signing secrets live under
	// SecretsPrefix + "webhooks/" (an endpoint's secret_ref starts with "webhooks/").
	// An ERP push endpoint's answer acks the order through the use case, so it writes
	// the table and sends like erp-api's ack. One message per invocation: a slow
	// endpoint costs one request timeout, not a batch of them.
	ev := function(EventsID, "events", 256, EventsTimeout, Trigger{Kind: TriggerQueue, Queue: EventsQueueID, BatchSize: 1, MaxConcurrency: ConsumerMaxConcurrency}, env)
	ev.Description = "Ponte outgoing webhooks: signed order events (FIFO per endpoint)"
	ev.QueueUses = append([]QueueUse{consume(EventsQueueID)}, send(OrdersQueueID, ChangesQueueID, EventsQueueID)...)
	ev.Permissions = append(ev.Permissions, table, secretsOf(SecretReadActions, "webhooks"))

	// order-poll: takes orders from platforms without webhooks (Mercos) and re-queues
	// deliveries a crash left unqueued; polling may refresh tokens.
	poll := function(OrderPollID, "order-poll", 256, OrderPollTimeout, Trigger{Kind: TriggerSchedule}, env)
	poll.Description = "Ponte order poll: platforms without webhooks, stalled deliveries"
	// Sweep reads the orders queue's counters (orders.Service.sweepAge: a backlog means a
	// young delivery may just be queued) before re-queueing stalled deliveries.
	poll.QueueUses = []QueueUse{{Queue: OrdersQueueID, Methods: []string{"Send", "Stats"}}}
	poll.Permissions = append(poll.Permissions, table)
	poll.Permissions = append(poll.Permissions, platformSecrets(SecretWriteActions)...)

	return []Function{hook, ord, ev, poll}
}
