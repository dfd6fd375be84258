using System.Collections.Concurrent;
using HlmHub.Domain;

namespace HlmHub.Server.Features;

/// <summary>
/// Counts what each caller holds open on this instance (streams, running reconciliations) for the service
/// <typeparamref name="TService"/>, and refuses one more over its limit with RESOURCE_EXHAUSTED naming the setting.
/// Per instance: each limit bounds what one caller can take of this instance's connections, threads and database
/// sessions from the others, which is what it protects. One singleton per service type (registered open generic).
/// </summary>
internal sealed class CallerSlots<TService>
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes a slot for <paramref name="callerId"/>, or throws <see cref="DomainErrorKind.LimitExceeded"/> with
    /// <paramref name="refusal"/>'s message when it already holds <paramref name="limit"/>; dispose to give it back.
    /// </summary>
    public IDisposable Acquire(string callerId, int limit, string field, Func<int, string> refusal)
    {
        var count = _open.AddOrUpdate(callerId, 1, static (_, current) => current + 1);
        if (count > limit)
        {
            Release(callerId);
            throw new DomainException(DomainErrorKind.LimitExceeded, field, refusal(limit));
        }

        return new Slot(this, callerId);
    }

    private void Release(string callerId)
    {
        // Back to zero: the entry goes, so callers seen once do not stay in the dictionary for ever.
        if (_open.AddOrUpdate(callerId, 0, static (_, current) => current - 1) == 0)
        {
            _open.TryRemove(new KeyValuePair<string, int>(callerId, 0));
        }
    }

    private sealed class Slot(CallerSlots<TService> slots, string callerId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(callerId);
            }
        }
    }
}
