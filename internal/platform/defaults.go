package platform

import (
	"log/slog"
	"net/http"
	"time"
)

// HTTPClient is the client a connector uses: c when the caller gave one, else one with its
// own pooled transport keeping idlePerHost idle connections per store host (the default
// transport keeps 2, too few for the parallel requests of a burst).
func HTTPClient(c *http.Client, idlePerHost int) *http.Client {
	if c != nil {
		return c
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = idlePerHost
	return &http.Client{Transport: tr}
}

// Logger is l, or one that discards when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// SaoPaulo is the time zone of the Brazilian platforms whose timestamps carry no offset
// (Tray, Mercos). Brazil has had no DST since 2019, so a fixed -03:00 is the fallback
// when the zone database is missing.
func SaoPaulo() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("BRT", -3*60*60)
}
