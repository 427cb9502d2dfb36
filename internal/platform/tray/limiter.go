package tray

import (
	"sync"
	"time"
)

// dailyCounter is the per-day request budget, per UTC day.
type dailyCounter struct {
	limit int
	mu    sync.Mutex
	day   string
	count int
}

// take counts one request, or reports how long until the budget resets.
func (d *dailyCounter) take(now time.Time) (ok bool, retryAfter time.Duration) {
	now = now.UTC()
	day := now.Format(time.DateOnly)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.day != day {
		d.day, d.count = day, 0
	}
	if d.count >= d.limit {
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		return false, midnight.Sub(now)
	}
	d.count++
	return true, 0
}
