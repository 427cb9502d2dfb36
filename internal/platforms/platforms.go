// Package platforms lists the platforms Ponte speaks to: their connectors and simulators.
// Adding a platform is one entry here.
package platforms

import (
	"fmt"
	"log/slog"
	"sort"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
	"github.com/ponte-hub/ponte/internal/platform/mercos"
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/platform/shopify"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
	"github.com/ponte-hub/ponte/internal/platform/tray"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

type entry struct {
	connector func(platform.Secrets, ratelimit.Limits, *slog.Logger) platform.Connector
	simulator func() platformsim.Simulator
}

func registry() map[string]entry {
	return map[string]entry{
		"merchantpro": {
			connector: func(s platform.Secrets, limits ratelimit.Limits, log *slog.Logger) platform.Connector {
				return merchantpro.New(s, merchantpro.Options{Logger: log, Limits: limits})
			},
			simulator: func() platformsim.Simulator { return merchantprosim.NewKit() },
		},
		"mercos": {
			connector: func(s platform.Secrets, _ ratelimit.Limits, log *slog.Logger) platform.Connector {
				return mercos.New(s, mercos.Options{Logger: log})
			},
			simulator: func() platformsim.Simulator { return mercossim.NewKit() },
		},
		"nuvemshop": {
			connector: func(s platform.Secrets, limits ratelimit.Limits, log *slog.Logger) platform.Connector {
				return nuvemshop.New(s, nuvemshop.Options{Logger: log, Limits: limits})
			},
			simulator: func() platformsim.Simulator { return nuvemshopsim.NewKit() },
		},
		"shopify": {
			connector: func(s platform.Secrets, _ ratelimit.Limits, log *slog.Logger) platform.Connector {
				return shopify.New(s, shopify.Options{Logger: log})
			},
			simulator: func() platformsim.Simulator { return shopifysim.NewKit() },
		},
		"tray": {
			connector: func(s platform.Secrets, limits ratelimit.Limits, log *slog.Logger) platform.Connector {
				return tray.New(s, tray.Options{Logger: log, Limits: limits})
			},
			simulator: func() platformsim.Simulator { return traysim.NewKit() },
		},
		"woocommerce": {
			connector: func(s platform.Secrets, limits ratelimit.Limits, log *slog.Logger) platform.Connector {
				return woocommerce.New(s, woocommerce.Options{Logger: log, Limits: limits})
			},
			simulator: func() platformsim.Simulator { return woocommercesim.NewKit() },
		},
	}
}

// Names lists the platforms, sorted.
func Names() []string {
	var out []string
	for name := range registry() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Connectors builds every platform's connector over one secrets source and one keeper of
// store rate limits (nil: each connector keeps its limits in this process). Mercos
// and Shopify keep theirs in process whatever limits is: see their limiters.
func Connectors(secrets platform.Secrets, limits ratelimit.Limits, log *slog.Logger) map[string]platform.Connector {
	out := map[string]platform.Connector{}
	for name, e := range registry() {
		out[name] = e.connector(secrets, limits, log)
	}
	return out
}

// Simulator builds a platform's simulator.
func Simulator(name string) (platformsim.Simulator, error) {
	e, ok := registry()[name]
	if !ok {
		return nil, fmt.Errorf("unknown platform %q (have %v)", name, Names())
	}
	return e.simulator(), nil
}
