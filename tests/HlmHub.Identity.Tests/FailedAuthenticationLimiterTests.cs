using System.Net;
using HlmHub.Identity.Internal;
using HlmHub.Identity.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Tests;

/// <summary>The failed-authentication counters alone (no I/O).</summary>
public sealed class FailedAuthenticationLimiterTests
{
    private static FailedAuthenticationLimiter Limiter(int maxTrackedKeys, out AdjustableTimeProvider clock)
    {
        clock = new AdjustableTimeProvider();
        var options = new AuthOptions();
        options.EmbeddedIssuer.MaxTrackedFailureKeys = maxTrackedKeys;
        options.EmbeddedIssuer.MaxFailedAuthenticationsPerClient = 3;
        options.EmbeddedIssuer.MaxFailedAuthenticationsPerAddress = 5;
        return new FailedAuthenticationLimiter(Options.Create(options), clock);
    }

    [Fact]
    public void FloodFromManyAddresses_StaysWithinTheTrackedKeyBound()
    {
        var limiter = Limiter(maxTrackedKeys: 200, out _);

        for (var i = 0; i < 5_000; i++)
        {
            limiter.RecordFailure("client-" + i, new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
            Assert.True(limiter.TrackedKeys <= 200, $"{limiter.TrackedKeys} keys tracked after {i + 1} failures");
        }
    }

    [Fact]
    public void FailuresFromOneAddress_BlockThatPairAndAddressOnly()
    {
        var limiter = Limiter(maxTrackedKeys: 1_000, out var clock);
        var attacker = IPAddress.Parse("192.0.2.7");
        var client = IPAddress.Parse("198.51.100.1");

        for (var i = 0; i < 3; i++)
        {
            limiter.RecordFailure("maaf", attacker);
        }

        Assert.NotNull(limiter.Refuse("maaf", attacker));
        Assert.Null(limiter.Refuse("maaf", client));
        Assert.Null(limiter.Refuse("other", attacker));
        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Null(limiter.Refuse("maaf", attacker));
    }

    [Fact]
    public void Ipv6Addresses_AreCountedPerSlash64()
    {
        var limiter = Limiter(maxTrackedKeys: 1_000, out _);

        for (var i = 1; i <= 5; i++)
        {
            limiter.RecordFailure(null, IPAddress.Parse("2001:db8:1:2::" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.NotNull(limiter.Refuse(null, IPAddress.Parse("2001:db8:1:2:ffff::1")));
        Assert.Null(limiter.Refuse(null, IPAddress.Parse("2001:db8:1:3::1")));
    }
}
