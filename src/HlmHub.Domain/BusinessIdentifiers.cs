namespace HlmHub.Domain;

/// <summary>
/// Checks of the French business registry numbers: SIREN (9 digits) and SIRET (14 digits, the SIREN and a
/// 5-digit establishment number), both carrying a Luhn checksum: a SIRET's own over its 14 digits, and its SIREN's.
/// </summary>
public static class BusinessIdentifiers
{
    /// <summary>
    /// La Poste's SIREN. Its establishments outnumber what the Luhn key can tell apart, so INSEE gives them
    /// SIRETs whose digits add up to a multiple of 5 instead of passing Luhn.
    /// </summary>
    public const string LaPosteSiren = "356000000";

    /// <summary>Whether <paramref name="siren"/> is 9 digits with a valid Luhn checksum.</summary>
    public static bool IsValidSiren(string? siren) => IsDigits(siren, 9) && PassesLuhn(siren!);

    /// <summary>
    /// Whether <paramref name="siret"/> is 14 digits whose first nine are a valid SIREN (the company's), with a valid
    /// Luhn checksum over the fourteen, or a La Poste SIRET (starting 356000000) whose digit sum is a multiple of 5.
    /// </summary>
    public static bool IsValidSiret(string? siret)
    {
        // The Luhn key over fourteen digits says nothing of the nine: "12345678900007" passes it with a SIREN that
        // does not exist. La Poste's SIREN is a valid one, so its establishments pass this check too.
        if (siret is null || !IsDigits(siret, 14) || !IsValidSiren(siret[..9]))
        {
            return false;
        }

        if (PassesLuhn(siret))
        {
            return true;
        }

        return siret.StartsWith(LaPosteSiren, StringComparison.Ordinal) && siret.Sum(digit => digit - '0') % 5 == 0;
    }

    /// <summary>Validates a SIREN, or throws naming <paramref name="field"/>.</summary>
    public static string RequireSiren(string field, string? siren) =>
        IsValidSiren(siren) ? siren! : throw DomainException.Invalid(field, "must be 9 digits with a valid Luhn checksum (SIREN)");

    /// <summary>Validates a SIRET, or throws naming <paramref name="field"/>.</summary>
    public static string RequireSiret(string field, string? siret) =>
        IsValidSiret(siret) ? siret! : throw DomainException.Invalid(field, "must be 14 digits, a valid SIREN and the establishment's number, with a valid Luhn checksum (SIRET)");

    private static bool IsDigits(string? value, int length) =>
        value is not null && value.Length == length && value.All(char.IsAsciiDigit);

    private static bool PassesLuhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var digit = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }

            sum += digit;
        }

        return sum % 10 == 0;
    }
}
