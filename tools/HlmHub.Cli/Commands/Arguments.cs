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
                result.AddError($"{name} must be a positive amount in euros with at most two decimals, e.g. 150.00, not '{value}'");
            }
        });
        return option;
    }

    public static long? ToCents(string value)
    {
        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var euros) || euros <= 0)
        {
            return null;
        }

        var cents = euros * 100;
        return cents == decimal.Truncate(cents) && cents <= long.MaxValue ? (long)cents : null;
    }

    public static bool IsMonth(string value) => MonthPattern().IsMatch(value);

    [GeneratedRegex(@"^\d{4}-(0[1-9]|1[0-2])$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthPattern();
}
