using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Counts failed client authentications per client id and per remote address in a fixed window
/// (<see cref="EmbeddedIssuerOptions.FailedAuthenticationWindow"/>); past the limit every request from that
/// client or address is refused with 429 until the window ends, even with the right secret, so guessing
/// cannot go on. Kept in memory per instance: a cluster multiplies the limits by its size, which still
/// bounds guessing.
/// </summary>
internal sealed class FailedAuthenticationLimiter(IOptions<AuthOptions> options, TimeProvider timeProvider)
{
    /// <summary>Bound on tracked keys, so a flood of random client ids cannot exhaust memory.</summary>
    internal const int MaxTrackedKeys = 100_000;

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    private EmbeddedIssuerOptions Limits => options.Value.EmbeddedIssuer;

    /// <summary>When blocked, how long until the caller may retry.</summary>
    public TimeSpan? BlockedFor(string? clientId, string remoteAddress)
    {
        var now = timeProvider.GetUtcNow();
        var byAddress = BlockedFor(AddressKey(remoteAddress), Limits.MaxFailedAuthenticationsPerAddress, now);
        var byClient = clientId is null ? null : BlockedFor(ClientKey(clientId), Limits.MaxFailedAuthenticationsPerClient, now);
        return byAddress > byClient ? byAddress : byClient ?? byAddress;
    }

    public void RecordFailure(string? clientId, string remoteAddress)
    {
        var now = timeProvider.GetUtcNow();
        if (_windows.Count >= MaxTrackedKeys)
        {
            Purge(now);
        }
        Increment(AddressKey(remoteAddress), now);
        if (clientId is not null)
        {
            Increment(ClientKey(clientId), now);
        }
    }

    private TimeSpan? BlockedFor(string key, int limit, DateTimeOffset now)
    {
        if (!_windows.TryGetValue(key, out var window))
        {
            return null;
        }
        var ends = window.StartedAt + Limits.FailedAuthenticationWindow;
        return window.Failures >= limit && now < ends ? ends - now : null;
    }

    private void Increment(string key, DateTimeOffset now) =>
        _windows.AddOrUpdate(
            key,
            static (_, now) => new Window(now, 1),
            (_, window, now) => now >= window.StartedAt + Limits.FailedAuthenticationWindow
                ? new Window(now, 1)
                : window with { Failures = window.Failures + 1 },
            now);

    private void Purge(DateTimeOffset now)
    {
        foreach (var entry in _windows)
        {
            if (now >= entry.Value.StartedAt + Limits.FailedAuthenticationWindow)
            {
                _windows.TryRemove(entry.Key, out _);
            }
        }
    }

    private static string AddressKey(string address) => "a:" + address;

    private static string ClientKey(string clientId) => "c:" + clientId;

    private sealed record Window(DateTimeOffset StartedAt, int Failures);
}
