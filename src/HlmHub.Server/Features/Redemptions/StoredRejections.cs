using HlmHub.Domain;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>
/// The rejected events this instance has stored per partner today (a calendar day in Europe/Paris), against
/// <see cref="RedemptionOptions.MaxStoredRejectionsPerPartnerPerDay"/>. A rejected event is stored so that its resend
/// gets the first answer; a partner's broken integration sending garbage under fresh event ids would otherwise add
/// rows without bound. Past the quota, rejections are answered and not stored. Counted in memory, by the pipeline's
/// single loop only (no lock), from committed batches: a restart, or another instance, starts its own count.
/// </summary>
internal sealed class StoredRejections(int maxPerPartnerPerDay)
{
    private readonly Dictionary<string, int> _stored = new(StringComparer.Ordinal);
    private DateOnly _day;

    /// <summary>How many more rejected events of <paramref name="partnerId"/> may be stored on the day of <paramref name="now"/>.</summary>
    public int Allowance(string partnerId, DateTimeOffset now)
    {
        Roll(now);
        return Math.Max(0, maxPerPartnerPerDay - _stored.GetValueOrDefault(partnerId));
    }

    /// <summary>Counts the rejected events a committed batch stored, per partner, on the day of <paramref name="now"/>.</summary>
    public void Add(IReadOnlyDictionary<string, int> storedByPartner, DateTimeOffset now)
    {
        Roll(now);
        foreach (var (partnerId, count) in storedByPartner)
        {
            _stored[partnerId] = _stored.GetValueOrDefault(partnerId) + count;
        }
    }

    private void Roll(DateTimeOffset now)
    {
        var day = Period.DayOf(now);
        if (day != _day)
        {
            // A new day: yesterday's counts go, so the dictionary holds one day's partners at most.
            _stored.Clear();
            _day = day;
        }
    }
}
