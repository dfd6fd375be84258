using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// Tokens whose signature and claims were validated, keyed by the token itself, so the next calls carrying it
/// cost a dictionary lookup instead of a signature check (the goal: at most 20 µs of server CPU per call, see
/// docs/benchmarks.md). An entry lives <see cref="AuthOptions.ValidatedTokenCacheDuration"/> and never past the
/// token's expiry; the cache holds at most <see cref="AuthOptions.ValidatedTokenCacheMaxEntries"/> tokens.
/// </summary>
internal sealed class ValidatedTokenCache(IOptions<AuthOptions> options, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> Spans => _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    private readonly TimeSpan _duration = options.Value.ValidatedTokenCacheDuration;
    private readonly int _maxEntries = options.Value.ValidatedTokenCacheMaxEntries;

    public int Count => _entries.Count;

    public bool TryGet(string token, out Entry entry) => TryGet(token.AsSpan(), out entry);

    /// <summary>Looks the token up without copying it out of the request header (the call path of every request).</summary>
    public bool TryGet(ReadOnlySpan<char> token, out Entry entry)
    {
        var spans = Spans;
        if (spans.TryGetValue(token, out entry!))
        {
            if (timeProvider.GetUtcNow() < entry.Until)
            {
                return true;
            }

            spans.TryRemove(token, out _);
        }

        entry = null!;
        return false;
    }

    public void Add(string token, ClaimsPrincipal principal, string scheme, string keyId, DateTimeOffset expiresAt)
    {
        if (_duration <= TimeSpan.Zero || _maxEntries <= 0)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        var until = now + _duration < expiresAt ? now + _duration : expiresAt;
        if (_entries.Count >= _maxEntries)
        {
            foreach (var entry in _entries)
            {
                if (entry.Value.Until <= now)
                {
                    _entries.TryRemove(entry.Key, out _);
                }
            }

            if (_entries.Count >= _maxEntries)
            {
                // Still full of live tokens: start over rather than grow; the cost is one signature check each.
                _entries.Clear();
            }
        }

        _entries[token] = new Entry(principal, scheme, keyId, until);
    }

    /// <summary>
    /// A validated token: its principal (shared, never modified), the scheme that validated it, the key it was signed
    /// with (an entry of a revoked key is not served: <see cref="TokenRouter"/>), and until when it may be
    /// reused; with the authentication result every call carrying it answers, built once (a ticket and its properties
    /// per call were about an eighth of what authentication allocated on the cached path: docs/benchmarks.md).
    /// </summary>
    internal sealed record Entry(ClaimsPrincipal Principal, string Scheme, string KeyId, DateTimeOffset Until)
    {
        public Task<AuthenticateResult> Authenticated { get; } =
            Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Principal, Scheme)));
    }
}
