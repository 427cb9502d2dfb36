package nuvemshop

import (
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func TestSettingsErrors(t *testing.T) {
	tests := map[string]string{
		"base_url":           "ftp://x",
		"store_id":           "../1",
		"batch_size":         "51",
		"rate_limit_bucket":  "0",
		"rate_limit_per_sec": "-2",
		"timeout_ms":         "soon",
		"catalog_page_size":  "500",
		"notify_customer":    "maybe",
		"cancel_reason":      "boredom",
		"user_agent":         "a\r\nX-Evil: 1",
	}
	c := New(&memSecrets{}, Options{})
	for name, value := range tests {
		conn := domain.Connection{ID: "c1", Settings: map[string]string{"store_id": testStore, name: value}}
		_, err := c.settings(conn)
		if err == nil || kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "setting "+name) {
			t.Errorf("%s=%q: %v", name, value, err)
		}
	}
	if _, err := c.settings(domain.Connection{ID: "c1", Settings: map[string]string{}}); err == nil || !strings.Contains(err.Error(), "store_id") {
		t.Errorf("missing store_id: %v", err)
	}
	s, err := c.settings(domain.Connection{ID: "c1", Settings: map[string]string{"store_id": testStore}})
	if err != nil || s.api != DefaultBaseURL+"/"+testStore || s.bucket != 40 || s.perSec != 2 || s.batchSize != 50 || s.currency != "BRL" {
		t.Errorf("defaults %+v %v", s, err)
	}
}
