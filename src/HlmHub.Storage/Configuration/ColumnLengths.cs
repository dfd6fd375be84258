namespace HlmHub.Storage.Configuration;

/// <summary>Column length limits of the model (the generated migrations follow them).</summary>
internal static class ColumnLengths
{
    /// <summary>Enum names stored as strings.</summary>
    public const int EnumName = 32;

    /// <summary>Slug ids (landlords, clubs, partners, contracts, offers, clients).</summary>
    public const int Slug = 100;

    /// <summary>Space-separated OAuth scopes.</summary>
    public const int Scopes = 1000;

    /// <summary>An encoded salted secret hash.</summary>
    public const int SecretHash = 500;

    /// <summary>A SIREN.</summary>
    public const int Siren = 9;

    /// <summary>A SIRET.</summary>
    public const int Siret = 14;

    /// <summary>An offer version's room tariffs, encoded (7 lines of at most ~45 characters).</summary>
    public const int RoomTariffs = 400;
}

/// <summary>Filters of the partial unique indexes, in SQL every provider accepts (standard double-quoted names).</summary>
internal static class IndexFilters
{
    public const string ActiveBuildingTrade = "\"Status\" = 'Active' AND \"Trade\" IS NOT NULL";

    public const string FederationNotEnded = "\"Status\" <> 'Ended'";

    public const string IsCancellation = "\"CancelsRedemptionId\" IS NOT NULL";
}
