using System.Collections.Concurrent;
using HlmHub.Domain;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Eligibility;

/// <summary>
/// Counts each partner's open Watch streams on this instance and refuses one over
/// <see cref="EligibilityOptions.MaxWatchStreamsPerPartner"/>. Per instance: the limit bounds what one partner can
/// hold of this instance's connections and polling, which is what it protects.
/// </summary>
internal sealed class WatchStreamLimiter(IOptions<EligibilityOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Takes a slot for <paramref name="partnerId"/>, or throws RESOURCE_EXHAUSTED naming the limit; dispose to give it back.</summary>
    public IDisposable Acquire(string partnerId)
    {
        var limit = options.Value.MaxWatchStreamsPerPartner;
        var count = _open.AddOrUpdate(partnerId, 1, (_, current) => current + 1);
        if (count > limit)
        {
            Release(partnerId);
            throw new DomainException(DomainErrorKind.LimitExceeded, "watch",
                $"the partner already has {limit} Watch streams open; Eligibility:MaxWatchStreamsPerPartner is {limit}");
        }

        return new Slot(this, partnerId);
    }

    private void Release(string partnerId) => _open.AddOrUpdate(partnerId, 0, (_, current) => current - 1);

    private sealed class Slot(WatchStreamLimiter limiter, string partnerId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limiter.Release(partnerId);
            }
        }
    }
}
