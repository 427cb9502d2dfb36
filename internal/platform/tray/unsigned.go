package tray

// UnsignedWebhooks: Tray signs no notification; seller_id (and app_code) is all there
// is to check, so the hub caps and filters what arrives (platform.UnsignedWebhooks).
func (c *Connector) UnsignedWebhooks() bool { return true }
