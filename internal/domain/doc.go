// Package domain holds Ponte's canonical types and the pure rules applied to them:
// availability, pricing, sync mode, allowlists. Nothing here does I/O.
package domain
