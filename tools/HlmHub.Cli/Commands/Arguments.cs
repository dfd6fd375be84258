using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HlmHub.Cli.Commands;

/// <summary>Options several commands share, each validated while parsing so a bad value is a usage error (exit 2).</summary>
internal static partial class Arguments
{
    public static Option<string> Club(bool required = true) => new("--club")
    {
        Description = "The club id, e.g. club-des-locataires-plaine-commune",
        Required = required,
    };

    /// <summary>A month as the hub names it: yyyy-MM (Europe/Paris).</summary>
    public static Option<string> Month(string name = "--month", bool required = true, string description = "The month, yyyy-MM (Europe/Paris)")
    {
        var option = new Option<string>(name) { Description = description, Required = required };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && !IsMonth(value))
            {
                result.AddError($"{name} must be a month as yyyy-MM, e.g. 2026-10, not '{value}'");
            }
        });
        return option;
    }

    /// <summary>An amount in euros with at most two decimals (150, 150.5, 150.50), as cents.</summary>
    public static Option<string> Euros(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, Required = true };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && ToCents(value) is null)
            {
                result.AddError(IsAboveMaximum(value)
                    ? $"{name} must be at most {MaxEuros.ToString("#,0.00", CultureInfo.InvariantCulture)} euros (the hub's limit for one amount), not '{value}'"
                    : $"{name} must be a positive amount in euros with at most two decimals, e.g. 150.00, not '{value}'");
            }
        });
        return option;
    }

    /// <summary>The most one amount may be, as the hub refuses more (its Limits.MaxAmountCents, 1,000,000,000 cents).</summary>
    public const decimal MaxEuros = 10_000_000m;

    public static long? ToCents(string value)
    {
        // Bounded before multiplying: a decimal near its own maximum would overflow (the CLI crashed on it).
        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var euros) || euros <= 0 || euros > MaxEuros)
        {
            return null;
        }

        var cents = euros * 100;
        return cents == decimal.Truncate(cents) ? (long)cents : null;
    }

    private static bool IsAboveMaximum(string value) =>
        decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var euros) && euros > MaxEuros;

    /// <summary>An instant, ISO 8601 (2026-10-15T10:00:00+02:00, or a date alone: midnight UTC), optional.</summary>
    public static Option<DateTimeOffset?> Instant(string name, string description)
    {
        return new Option<DateTimeOffset?>(name)
        {
            Description = description,
            // Parsed here so a wrong value says what is expected in the user's terms, not a .NET type name.
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
                {
                    // With no offset (a date, or a date and time), the value is read on a clock in Paris, where the
                    // hub's months are: 2026-10-31T23:30 is October's, not 00:30 UTC+1 on 1 November.
                    return HasOffset(text) ? instant : InParis(instant.DateTime);
                }

                result.AddError($"{name} must be an instant in ISO 8601, e.g. 2026-10-15T10:00:00+02:00, not '{text}'");
                return null;
            },
        };
    }

    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private static bool HasOffset(string text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) && parsed.Kind != DateTimeKind.Unspecified;

    // A wall-clock time skipped by the spring change (02:30 on the last Sunday of March) is read at the winter
    // offset, one skipped in autumn at the summer one: either way the same day, so the same month.
    private static DateTimeOffset InParis(DateTime wallClock)
    {
        var unspecified = DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified);
        return new DateTimeOffset(unspecified, Paris.GetUtcOffset(unspecified));
    }

    public static bool IsMonth(string value) => MonthPattern().IsMatch(value);

    [GeneratedRegex(@"^\d{4}-(0[1-9]|1[0-2])$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthPattern();
}
