package domain

import "strings"

// Allows reports whether the connection's allowlist (seed 002's "test with one
// product first") lets the SKU through. An empty list allows everything. An entry
// matches the SKU (the state's or the product's), an additional code, or the EAN.
// SKUs and codes compare exactly after trimming, case included, because ERPs treat
// "ab-1" and "AB-1" as different items. EANs compare as digit strings: separators
// are ignored but leading zeros are not, so "0789…" never matches "789…".
func (r Rules) Allows(p *Product, sku string) bool {
	if len(r.Allowlist) == 0 {
		return true
	}
	for _, raw := range r.Allowlist {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		if e == strings.TrimSpace(sku) {
			return true
		}
		if p == nil {
			continue
		}
		if e == strings.TrimSpace(p.SKU) {
			return true
		}
		for _, c := range p.AdditionalCodes {
			if e == strings.TrimSpace(c) {
				return true
			}
		}
		if ean := allowEANDigits(p.EAN); ean != "" && ean == allowEANDigits(e) {
			return true
		}
	}
	return false
}

// ParseAllowlist splits the allowlist setting as merchants type or paste it: commas
// (the documented separator), semicolons or line breaks. Entries are trimmed, empty
// ones dropped and duplicates removed, keeping first-seen order.
func ParseAllowlist(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '\n' || r == '\r'
	})
	out := make([]string, 0, len(fields))
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// allowEANDigits returns the EAN's digits with spaces and hyphens removed, or "" when
// anything else is in it (then it is not an EAN and must not match as one).
func allowEANDigits(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return ""
		}
	}
	return b.String()
}
