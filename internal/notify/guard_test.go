package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
)

func TestPublicOnlyRefusesInternalAddresses(t *testing.T) {
	cases := []struct {
		address string
		refused bool
	}{
		{"127.0.0.1:443", true},
		{"10.1.2.3:443", true},
		{"172.16.0.9:443", true},
		{"192.168.1.1:80", true},
		{"169.254.169.254:80", true}, // the instance metadata service
		{"100.64.0.1:443", true},
		{"0.0.0.0:443", true},
		{"224.0.0.1:443", true},
		{"[::1]:443", true},
		{"[fe80::1]:443", true},
		{"[fd00::1]:443", true},
		{"[::ffff:10.0.0.1]:443", true},
		{"8.8.8.8:443", false},
		{"[2001:4860:4860::8888]:443", false},
		{"not-an-address", true},
	}
	for _, c := range cases {
		t.Run(c.address, func(t *testing.T) {
			err := publicOnly("tcp", c.address, nil)
			if (err != nil) != c.refused {
				t.Fatalf("publicOnly(%s) = %v, refused want %v", c.address, err, c.refused)
			}
		})
	}
}

// With PublicOnly, an endpoint on the hub's own network is dead-lettered with the reason,
// and nothing reaches it.
func TestDispatchPublicOnlyDeadLettersPrivateEndpoints(t *testing.T) {
	d, r, _, _ := setup(t, answer(204, nil, ""), domain.WebhookEndpoint{})
	d.PublicOnly = true
	got := outcome(d.Handle(context.Background(), message(t, "e1", "order.accepted", orderData)))
	if !strings.HasPrefix(got, "dead: ") || !strings.Contains(got, "private, loopback or link-local") || strings.Contains(got, "tok-in-url") {
		t.Fatalf("outcome %q", got)
	}
	if r.calls() != 0 {
		t.Fatalf("the private endpoint was called %d times", r.calls())
	}
}
