using System.Net;
using System.Net.Sockets;

namespace HlmHub.Identity;

/// <summary>
/// What counts as one remote address for the hub's per-address limits (failed authentications, anonymous calls): an
/// IPv4 address (an IPv4-mapped IPv6 one included), or an IPv6 /64, since one host or site is given a whole /64 and
/// could otherwise use a fresh address for every attempt.
/// </summary>
public static class AddressPartitions
{
    public static string Key(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }
}
