using System.Net;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Writes event 3001 (RpcDenied) at most once per <see cref="Window"/> for one client id from one address (an IPv6 /64
/// counting as one, <see cref="AddressPartitions"/>): a caller in a loop with a bad token, or without the scope it
/// needs, would otherwise write one warning per call and fill the log, as a refused token request would have
/// (TokenRequestGate logs those once per block). Every refused call is still refused; the next entry written for the
/// same caller says how many were left out before it. At most <see cref="MaxTrackedCallers"/> callers are tracked: past
/// that (a flood from that many addresses) a new caller's denials are left out and counted too, and the count goes
/// with the next entry written, whichever caller it is for.
/// </summary>
internal sealed partial class DeniedCallLog(TimeProvider timeProvider)
{
    /// <summary>How long after an entry the same caller's denials are counted instead of written.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>The callers tracked at once: a bound on this class's memory.</summary>
    public const int MaxTrackedCallers = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Address, string ClientId), Entry> _callers = [];
    private long _untracked;

    /// <summary>Logs the denial of <paramref name="rpc"/> to <paramref name="clientId"/> from <paramref name="address"/>, or counts it.</summary>
    public void Denied(ILogger logger, IPAddress? address, string rpc, string clientId, string reason)
    {
        var now = timeProvider.GetUtcNow();
        long leftOut;
        lock (_lock)
        {
            var key = (AddressPartitions.Key(address), clientId);
            if (_callers.TryGetValue(key, out var entry) && now - entry.LoggedAt < Window)
            {
                entry.LeftOut++;
                return;
            }

            if (entry is null && _callers.Count >= MaxTrackedCallers)
            {
                foreach (var ended in _callers.Where(pair => now - pair.Value.LoggedAt >= Window).Select(pair => pair.Key).ToList())
                {
                    _untracked += _callers[ended].LeftOut;
                    _callers.Remove(ended);
                }

                if (_callers.Count >= MaxTrackedCallers)
                {
                    _untracked++;
                    return;
                }
            }

            leftOut = (entry?.LeftOut ?? 0) + _untracked;
            _untracked = 0;
            _callers[key] = new Entry(now);
        }

        if (leftOut == 0)
        {
            IdentityLog.RpcDenied(logger, rpc, clientId, reason, now);
        }
        else
        {
            RpcDeniedAfterLeftOut(logger, rpc, clientId, reason, now, leftOut);
        }
    }

    // Event 3001 as IdentityLog writes it, with the denials left out since the caller's last entry (here: the source
    // generator allows one method per event id and name in a type).
    [LoggerMessage(EventId = IdentityEventIds.RpcDenied, EventName = "RpcDeniedAfterLeftOut", Level = LogLevel.Warning,
        Message = "Denied {Rpc} for client {ClientId}: {Reason} at {DeniedAt:O}; {LeftOut} more denials since this caller's last entry were not logged")]
    private static partial void RpcDeniedAfterLeftOut(ILogger logger, string rpc, string clientId, string reason, DateTimeOffset deniedAt, long leftOut);

    private sealed class Entry(DateTimeOffset loggedAt)
    {
        public DateTimeOffset LoggedAt { get; } = loggedAt;

        public long LeftOut { get; set; }
    }
}
