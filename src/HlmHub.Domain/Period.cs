using System.Globalization;

namespace HlmHub.Domain;

/// <summary>
/// A calendar month in Europe/Paris time: the unit of caps, fees, statements and reconciliation. An instant
/// belongs to the month it falls in for a clock in Paris, so 23:30 UTC on 31 January is already February.
/// </summary>
public readonly record struct Period : IComparable<Period>
{
    /// <summary>The earliest supported year.</summary>
    public const int MinYear = 2000;

    /// <summary>The latest supported year.</summary>
    public const int MaxYear = 2999;

    /// <summary>The time zone periods are counted in (IANA id).</summary>
    public const string TimeZoneId = "Europe/Paris";

    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById(TimeZoneId);

    /// <summary>Creates the period of a year and month (1-12).</summary>
    public Period(int year, int month)
    {
        Year = Require.InRange("period.year", year, MinYear, MaxYear);
        Month = Require.InRange("period.month", month, 1, 12);
    }

    /// <summary>The year.</summary>
    public int Year { get; }

    /// <summary>The month, 1-12.</summary>
    public int Month { get; }

    /// <summary>A sortable integer, <c>yyyymm</c> (how storage keeps it).</summary>
    public int Key => (Year * 100) + Month;

    /// <summary>The first instant of the month in Paris, in UTC (inclusive).</summary>
    public DateTimeOffset StartUtc => StartOfMonthUtc(Year, Month);

    /// <summary>The first instant of the next month in Paris, in UTC (exclusive end of this period).</summary>
    public DateTimeOffset EndUtc => Next().StartUtc;

    /// <summary>The period an instant falls in, on a clock in Paris.</summary>
    public static Period Of(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, Paris);
        return new Period(local.Year, local.Month);
    }

    /// <summary>Whether an instant falls in a supported year (<see cref="MinYear"/> to <see cref="MaxYear"/>) on a clock in Paris, so that <see cref="Of"/> accepts it.</summary>
    public static bool Supports(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Paris).Year is >= MinYear and <= MaxYear;

    /// <summary>The calendar day an instant falls on, on a clock in Paris (contract dates are such days).</summary>
    public static DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Paris).DateTime);

    /// <summary>The period from its storage key (<c>yyyymm</c>).</summary>
    public static Period FromKey(int key) => new(key / 100, key % 100);

    /// <summary>Parses "yyyy-MM" (e.g. "2026-11"); the field name is used in the error.</summary>
    public static Period Parse(string field, string? text)
    {
        if (text is { Length: 7 } && text[4] == '-'
            && int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            && int.TryParse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            && year is >= MinYear and <= MaxYear && month is >= 1 and <= 12)
        {
            return new Period(year, month);
        }

        throw DomainException.Invalid(field, $"must be a month written yyyy-MM between {MinYear} and {MaxYear}");
    }

    /// <summary>The following month.</summary>
    public Period Next() => Month == 12 ? new Period(Year + 1, 1) : new Period(Year, Month + 1);

    /// <summary>The preceding month.</summary>
    public Period Previous() => Month == 1 ? new Period(Year - 1, 12) : new Period(Year, Month - 1);

    /// <summary>Whether an instant falls in this period.</summary>
    public bool Contains(DateTimeOffset instant) => instant >= StartUtc && instant < EndUtc;

    /// <inheritdoc />
    public int CompareTo(Period other) => Key.CompareTo(other.Key);

    /// <summary>Compares periods.</summary>
    public static bool operator <(Period left, Period right) => left.Key < right.Key;

    /// <summary>Compares periods.</summary>
    public static bool operator >(Period left, Period right) => left.Key > right.Key;

    /// <summary>Compares periods.</summary>
    public static bool operator <=(Period left, Period right) => left.Key <= right.Key;

    /// <summary>Compares periods.</summary>
    public static bool operator >=(Period left, Period right) => left.Key >= right.Key;

    /// <summary>"yyyy-MM".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Year:0000}-{Month:00}");

    /// <summary>The first instant of a calendar day in Paris, in UTC.</summary>
    public static DateTimeOffset StartOfDayUtc(DateOnly day) => StartOfDayUtc(day.Year, day.Month, day.Day);

    private static DateTimeOffset StartOfMonthUtc(int year, int month) => StartOfDayUtc(year, month, 1);

    private static DateTimeOffset StartOfDayUtc(int year, int month, int day)
    {
        // Midnight never falls in Paris's DST gap (changes happen at 02:00/03:00), but stay correct if the rules change.
        var local = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified);
        while (Paris.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        var offset = Paris.IsAmbiguousTime(local) ? Paris.GetAmbiguousTimeOffsets(local).Max() : Paris.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }
}
