using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Counts failed client authentications at the token endpoint in a fixed window
/// (<see cref="EmbeddedIssuerOptions.FailedAuthenticationWindow"/>), per (client id, remote address) and per remote
/// address. Past either limit, every request from that pair (or that address) is refused with 429 until the
/// window ends, even with the right secret, so guessing cannot go on. A stranger who knows a client id blocks only
/// itself: the legitimate client, calling from another address, still gets its token. IPv6 addresses are counted
/// per /64, the block one subscriber usually holds. Kept in memory per instance: a cluster multiplies the limits by
/// its size, which still bounds guessing.
/// </summary>
internal sealed class FailedAuthenticationLimiter(IOptions<AuthOptions> options, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _evictionLock = new();

    private EmbeddedIssuerOptions Limits => options.Value.EmbeddedIssuer;

    /// <summary>How many keys are tracked now (tests check the bound).</summary>
    internal int TrackedKeys => _windows.Count;

    /// <summary>
    /// Whether a request is refused, and for how long the caller is blocked; also says whether this refusal is the
    /// first of its block (of the pair's or the address's window), the one worth a log entry. A blocked caller in a
    /// loop is refused thousands of times a second; one log entry per block, not per refusal, keeps it from filling
    /// the log (<c>hlmhub.token.requests</c> still counts every refusal).
    /// </summary>
    public Refusal? Refuse(string? clientId, IPAddress? remoteAddress)
    {
        var now = timeProvider.GetUtcNow();
        var address = AddressKey(remoteAddress);
        var byAddress = Refuse(address, Limits.MaxFailedAuthenticationsPerAddress, now);
        var byClient = clientId is null ? null : Refuse(ClientKey(clientId, address), Limits.MaxFailedAuthenticationsPerClient, now);
        if (byAddress is null && byClient is null)
        {
            return null;
        }
        Refusal[] blocks = [.. new[] { byAddress, byClient }.OfType<Refusal>()];
        return new Refusal(blocks.Max(block => block.RetryAfter), blocks.Any(block => block.First));
    }

    public void RecordFailure(string? clientId, IPAddress? remoteAddress)
    {
        var now = timeProvider.GetUtcNow();
        if (_windows.Count >= Limits.MaxTrackedFailureKeys - 1)
        {
            Evict(now);
        }
        var address = AddressKey(remoteAddress);
        Increment(address, now);
        if (clientId is not null)
        {
            Increment(ClientKey(clientId, address), now);
        }
    }

    private Refusal? Refuse(string key, int limit, DateTimeOffset now)
    {
        while (_windows.TryGetValue(key, out var window))
        {
            var ends = window.StartedAt + Limits.FailedAuthenticationWindow;
            if (window.Failures < limit || now >= ends)
            {
                return null;
            }
            if (window.RefusalReported)
            {
                return new Refusal(ends - now, First: false);
            }
            // Only the request that marks the window reports it; one that lost the race reads the mark on its next turn.
            if (_windows.TryUpdate(key, window with { RefusalReported = true }, window))
            {
                return new Refusal(ends - now, First: true);
            }
        }
        return null;
    }

    private void Increment(string key, DateTimeOffset now) =>
        _windows.AddOrUpdate(
            key,
            static (_, now) => new Window(now, 1),
            (_, window, now) => now >= window.StartedAt + Limits.FailedAuthenticationWindow
                ? new Window(now, 1)
                : window with { Failures = window.Failures + 1 },
            now);

    /// <summary>
    /// Keeps the table within <see cref="EmbeddedIssuerOptions.MaxTrackedFailureKeys"/>: windows that have ended
    /// go first; if that is not enough (a flood from many addresses), the oldest windows go until a tenth of the
    /// room is free, so the next evictions are rare. An attacker can only make a counter forgotten by spending a
    /// tenth of the table's size in failures from fresh addresses.
    /// </summary>
    private void Evict(DateTimeOffset now)
    {
        lock (_evictionLock)
        {
            var maximum = Limits.MaxTrackedFailureKeys;
            if (_windows.Count < maximum - 1)
            {
                return;
            }
            foreach (var entry in _windows)
            {
                if (now >= entry.Value.StartedAt + Limits.FailedAuthenticationWindow)
                {
                    _windows.TryRemove(entry.Key, out _);
                }
            }
            var target = maximum - Math.Max(2, maximum / 10);
            var excess = _windows.Count - target;
            if (excess > 0)
            {
                foreach (var entry in _windows.OrderBy(entry => entry.Value.StartedAt).Take(excess).ToList())
                {
                    _windows.TryRemove(entry.Key, out _);
                }
            }
        }
    }

    private static string AddressKey(IPAddress? address) => "a:" + AddressPartitions.Key(address);

    // The client id goes last: it is caller-chosen text and may contain anything, the address key cannot.
    private static string ClientKey(string clientId, string addressKey) => "c:" + addressKey + "|" + clientId;

    /// <summary>A failure window; <paramref name="RefusalReported"/> once a refusal it caused was logged.</summary>
    private sealed record Window(DateTimeOffset StartedAt, int Failures, bool RefusalReported = false);

    /// <summary>A refused request: how long until the caller may retry, and whether it is the first refusal of its block.</summary>
    internal sealed record Refusal(TimeSpan RetryAfter, bool First);
}
