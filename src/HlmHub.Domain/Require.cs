using System.Text.RegularExpressions;

namespace HlmHub.Domain;

/// <summary>Argument checks shared by the factories; each failure names the field and the rule.</summary>
internal static partial class Require
{
    public static string Slug(string field, string? value)
    {
        if (value is null || !SlugPattern().IsMatch(value))
        {
            throw DomainException.Invalid(field, $"must be a slug: 1-{Limits.SlugMaxLength} characters a-z, 0-9 and '-', starting with a letter or digit");
        }

        return value;
    }

    public static bool IsSlug(string? value) => value is not null && SlugPattern().IsMatch(value);

    /// <summary>
    /// A name, title or description: trimmed, 1 to <paramref name="maxLength"/> characters of
    /// <see cref="PrintableText"/>. One line: no text the hub keeps spans several (nothing sent or seeded has a line
    /// break or a tab), and a NUL would make PostgreSQL fail the write as an internal error.
    /// </summary>
    public static string Text(string field, string? value, int maxLength)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw DomainException.Invalid(field, "is required");
        }

        if (!PrintableText.Is(trimmed))
        {
            throw DomainException.Invalid(field, "must be printable text on one line: it holds a control character (a NUL, a line break, a tab...)");
        }

        if (trimmed.Length > maxLength)
        {
            throw DomainException.Invalid(field, $"must be at most {maxLength} characters");
        }

        return trimmed;
    }

    /// <summary>
    /// An identifier a caller chose (an event id): kept exactly as given, never trimmed, since the caller resends and
    /// matches it as is; 1 to <paramref name="maxLength"/> printable characters, no space at either end.
    /// </summary>
    public static string Identifier(string field, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength || !PrintableText.Is(value)
            || char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]))
        {
            throw DomainException.Invalid(field, $"must be 1 to {maxLength} printable characters, not beginning or ending with a space");
        }

        return value;
    }

    public static int InRange(string field, int value, int minimum, int maximum)
    {
        if (value < minimum || value > maximum)
        {
            throw DomainException.Invalid(field, $"must be between {minimum} and {maximum}");
        }

        return value;
    }

    public static Money Positive(string field, Money value)
    {
        if (value.Cents <= 0)
        {
            throw DomainException.Invalid(field, "must be greater than zero");
        }

        return value;
    }

    /// <summary>
    /// One amount of an offer's terms (a discount, a price, a premium, a cap): 1 cent (0 when
    /// <paramref name="zeroAllowed"/>) to <see cref="Limits.MaxAmountCents"/>, the bound on every amount of a
    /// redemption. Past it, the offer could be created but a discount of that size never claimed: its claim is
    /// MALFORMED (a room tariff with a public premium of 20,000,000 EUR and a negotiated one of 0 was just that).
    /// </summary>
    public static Money Amount(string field, Money value, bool zeroAllowed = false)
    {
        var minimum = zeroAllowed ? 0 : 1;
        if (value.Cents < minimum || value.Cents > Limits.MaxAmountCents)
        {
            throw DomainException.Invalid(field, $"must be {minimum} to {Limits.MaxAmountCents} cents (10,000,000.00 EUR)");
        }

        return value;
    }

    public static Money NotNegative(string field, Money value)
    {
        if (value.Cents < 0)
        {
            throw DomainException.Invalid(field, "must not be negative");
        }

        return value;
    }

    public static T Defined<T>(string field, T value)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw DomainException.Invalid(field, $"must be one of {string.Join(", ", Enum.GetNames<T>())}");
        }

        return value;
    }

    public static Guid NotEmpty(string field, Guid value)
    {
        if (value == Guid.Empty)
        {
            throw DomainException.Invalid(field, "is required");
        }

        return value;
    }

    // \z, not $: $ also matches before a final "\n", which let "acme\n" through as a slug.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}
