package notify

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// errPrivateAddress: the endpoint resolved to an address inside the hub's own network.
var errPrivateAddress = errors.New("refused: the endpoint resolves to a private, loopback or link-local address")

// sharedAddressSpace is RFC 6598's carrier-grade NAT range, private in all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicOnly is a net.Dialer Control that refuses every address that is not public
// unicast. It runs after DNS resolution, on the address actually dialled, so a public
// name that resolves (or re-resolves) to 169.254.169.254 or 10.x is refused too: on
// Lambda, a tenant's endpoint URL must never reach the instance metadata service or the
// VPC.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || sharedAddressSpace.Contains(ip) {
		return fmt.Errorf("dial %s: %w", ip, errPrivateAddress)
	}
	return nil
}
