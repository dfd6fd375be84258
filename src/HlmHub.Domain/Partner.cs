using System.Text.RegularExpressions;

namespace HlmHub.Domain;

/// <summary>What a partner does; building trades pay a higher fee and are limited to one per trade per club.</summary>
public enum PartnerKind
{
    /// <summary>An insurer (e.g. home insurance priced by number of rooms).</summary>
    Insurer,

    /// <summary>A merchant (driving school, bakery...).</summary>
    Merchant,

    /// <summary>An association.</summary>
    Association,

    /// <summary>A building company (plumber, painter, electrician, locksmith...).</summary>
    BuildingTrade,

    /// <summary>A service provider (pressing, basket drop-off...).</summary>
    Service,
}

/// <summary>A business or association making offers to club members.</summary>
public sealed partial class Partner
{
    private Partner()
    {
        Id = "";
        Name = "";
        Siret = "";
    }

    /// <summary>The slug id.</summary>
    public string Id { get; private set; }

    /// <summary>The display name.</summary>
    public string Name { get; private set; }

    /// <summary>The kind of partner.</summary>
    public PartnerKind Kind { get; private set; }

    /// <summary>The trade of a building company (lowercase, e.g. <c>plumber</c>); null for other kinds.</summary>
    public string? Trade { get; private set; }

    /// <summary>The SIRET of the establishment (14 digits, its SIREN and itself Luhn-checked; La Poste's rule accepted).</summary>
    public string Siret { get; private set; }

    /// <summary>Whether the establishment is in a priority neighbourhood (QPV).</summary>
    public bool InQpv { get; private set; }

    /// <summary>When the partner was registered.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>
    /// Validates and creates a partner. A building company must name its trade; other kinds must not.
    /// </summary>
    public static Partner Create(
        string id, string name, PartnerKind kind, string? trade, string siret, bool inQpv, DateTimeOffset createdAt)
    {
        Require.Defined("kind", kind);
        return new Partner
        {
            Id = Require.Slug("id", id),
            Name = Require.Text("name", name, Limits.NameMaxLength),
            Kind = kind,
            Trade = NormalizeTrade(kind, trade),
            Siret = BusinessIdentifiers.RequireSiret("siret", siret),
            InQpv = inQpv,
            CreatedAt = createdAt,
        };
    }

    private static string? NormalizeTrade(PartnerKind kind, string? trade)
    {
        var normalized = trade?.Trim().ToLowerInvariant();
        if (kind != PartnerKind.BuildingTrade)
        {
            return string.IsNullOrEmpty(normalized)
                ? null
                : throw DomainException.Invalid("trade", "is only for building-trade partners");
        }

        if (normalized is null || !TradePattern().IsMatch(normalized))
        {
            throw DomainException.Invalid(
                "trade", $"is required for a building-trade partner: 1-{Limits.TradeMaxLength} lowercase letters, digits or '-'");
        }

        return normalized;
    }

    // \z, not $: $ also matches before a final "\n" (trimmed away above today, but the pattern should not rely on it).
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,49}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TradePattern();
}
