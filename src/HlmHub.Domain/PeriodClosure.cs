namespace HlmHub.Domain;

/// <summary>
/// A club's month once closed: frozen for reconciliation and the ledger. Closing is final (the database refuses
/// to reopen it); anything that happened in a closed month and arrives late is booked in the next open month.
/// </summary>
public sealed class PeriodClosure
{
    private PeriodClosure()
    {
        ClubId = "";
    }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The closed month.</summary>
    public Period Period { get; private set; }

    /// <summary>When it was closed.</summary>
    public DateTimeOffset ClosedAt { get; private set; }

    /// <summary>Closes <paramref name="period"/>; only a month that is over (in Paris) at <paramref name="closedAt"/> can be.</summary>
    public static PeriodClosure Close(string clubId, Period period, DateTimeOffset closedAt)
    {
        if (period >= Period.Of(closedAt))
        {
            throw DomainException.Precondition("period", "only a month that is over can be closed");
        }

        return new PeriodClosure { ClubId = Require.Slug("clubId", clubId), Period = period, ClosedAt = closedAt };
    }
}

/// <summary>Where late events are booked.</summary>
public static class PeriodRules
{
    /// <summary>
    /// The period an event that happened in <paramref name="occurred"/> is booked in: that month if it comes after
    /// every closed month, else the month after the last closed one (an adjustment in the open month). Months close
    /// in order, so every month up to the last closed one is final, including a month before the club's first month,
    /// which is never closed itself: a booking there would change what the closed months' runs read (a payment booked
    /// up to their end) after they were closed.
    /// </summary>
    public static Period BookingPeriod(Period occurred, IReadOnlyCollection<Period> closedPeriods)
    {
        ArgumentNullException.ThrowIfNull(closedPeriods);
        if (closedPeriods.Count == 0)
        {
            return occurred;
        }

        var lastClosed = closedPeriods.Max();
        return occurred <= lastClosed ? lastClosed.Next() : occurred;
    }

    /// <summary>
    /// The earliest month from <paramref name="firstMonth"/> up to, not including, <paramref name="period"/> that is
    /// not in <paramref name="closedPeriods"/>; null when all are closed. Months close in order: a month left open
    /// before a closed one still takes late bookings (a payment dated in it, a cancellation), and the closed month's
    /// reconciliation reads those booked up to its end, so the closed month would not be final.
    /// </summary>
    public static Period? FirstOpenBefore(Period period, Period firstMonth, IReadOnlyCollection<Period> closedPeriods)
    {
        ArgumentNullException.ThrowIfNull(closedPeriods);
        for (var month = firstMonth; month < period; month = month.Next())
        {
            if (!closedPeriods.Contains(month))
            {
                return month;
            }
        }

        return null;
    }
}
