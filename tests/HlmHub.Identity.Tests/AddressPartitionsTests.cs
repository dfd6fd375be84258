using System.Net;

namespace HlmHub.Identity.Tests;

/// <summary>What one remote address is for the per-address limits (failed authentications, anonymous calls).</summary>
public sealed class AddressPartitionsTests
{
    [Fact]
    public void AnIPv6Slash64_IsOneAddress_AnIPv4AddressItselfWhetherMappedOrNot()
    {
        Assert.Equal(AddressPartitions.Key(IPAddress.Parse("2001:db8:1:2::1")), AddressPartitions.Key(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.NotEqual(AddressPartitions.Key(IPAddress.Parse("2001:db8:1:2::1")), AddressPartitions.Key(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("192.0.2.7", AddressPartitions.Key(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.NotEqual(AddressPartitions.Key(IPAddress.Parse("192.0.2.7")), AddressPartitions.Key(IPAddress.Parse("192.0.2.8")));
        Assert.Equal("unknown", AddressPartitions.Key(null));
    }
}
