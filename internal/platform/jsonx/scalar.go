// Package jsonx holds JSON helpers the connectors share.
package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Scalar takes a platform's loosely typed scalars as text: "12", 12, 12.5, true, null.
// Objects and arrays read as empty (Tray, for one, sends [] for an empty value).
type Scalar string

// UnmarshalJSON keeps a number's literal text, so ids and amounts never pass through float64.
func (f *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = Scalar(s)
	case b[0] == '{' || b[0] == '[':
		*f = ""
	default:
		*f = Scalar(b)
	}
	return nil
}

// Str is the value without surrounding spaces.
func (f Scalar) Str() string { return strings.TrimSpace(string(f)) }
