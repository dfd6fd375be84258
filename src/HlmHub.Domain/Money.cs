using System.Globalization;

namespace HlmHub.Domain;

/// <summary>
/// An amount of euros as a whole number of cents. Arithmetic is checked (the project compiles with
/// CheckForOverflowUnderflow), so an overflow throws instead of wrapping into a wrong balance.
/// </summary>
public readonly record struct Money(long Cents) : IComparable<Money>
{
    /// <summary>No money.</summary>
    public static readonly Money Zero = new(0);

    /// <summary>An amount of whole euros.</summary>
    public static Money FromEuros(long euros) => new(checked(euros * 100));

    /// <summary>An amount in cents.</summary>
    public static Money FromCents(long cents) => new(cents);

    /// <summary>The sum.</summary>
    public static Money operator +(Money left, Money right) => new(checked(left.Cents + right.Cents));

    /// <summary>The difference.</summary>
    public static Money operator -(Money left, Money right) => new(checked(left.Cents - right.Cents));

    /// <summary>The opposite amount.</summary>
    public static Money operator -(Money value) => new(checked(-value.Cents));

    /// <summary>Compares amounts.</summary>
    public static bool operator <(Money left, Money right) => left.Cents < right.Cents;

    /// <summary>Compares amounts.</summary>
    public static bool operator >(Money left, Money right) => left.Cents > right.Cents;

    /// <summary>Compares amounts.</summary>
    public static bool operator <=(Money left, Money right) => left.Cents <= right.Cents;

    /// <summary>Compares amounts.</summary>
    public static bool operator >=(Money left, Money right) => left.Cents >= right.Cents;

    /// <summary>The smaller amount.</summary>
    public static Money Min(Money left, Money right) => left <= right ? left : right;

    /// <summary>The larger amount.</summary>
    public static Money Max(Money left, Money right) => left >= right ? left : right;

    /// <summary>
    /// A share of this amount in basis points (1/100 of a percent), rounded down to the cent: a discount never
    /// exceeds the exact percentage.
    /// </summary>
    public Money Percent(int basisPoints)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(basisPoints);
        // Int128 keeps the intermediate product exact for any long amount.
        var share = (Int128)Cents * basisPoints / 10_000;
        return new Money(checked((long)share));
    }

    /// <inheritdoc />
    public int CompareTo(Money other) => Cents.CompareTo(other.Cents);

    /// <summary>Formats as euros with two decimals, e.g. "12.50 EUR".</summary>
    public override string ToString()
    {
        var sign = Cents < 0 ? "-" : "";
        var absolute = Cents == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)Math.Abs(Cents);
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{absolute / 100}.{absolute % 100:00} EUR");
    }
}
