namespace HlmHub.Storage.Configuration;

/// <summary>Column length limits shared by the model and the hand-written migrations (they must agree).</summary>
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
}
