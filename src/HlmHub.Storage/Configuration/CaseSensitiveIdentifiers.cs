using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

/// <summary>
/// Identifiers that differ only by case are different identifiers (member tokens are base64url, partners' event
/// ids, idempotency keys and landlords' references are opaque, OAuth client ids are case-sensitive). SQLite and
/// PostgreSQL compare text case-sensitively already; SQL Server's usual collations do not, so there these columns get
/// a binary collation, or "evt-A" would be a duplicate of "evt-a", a member token would match another's case variant,
/// and code that looks rows up in SQL, then matches them ordinally in memory, would miss the row SQL found.
/// Slug ids (landlords, clubs, partners, contracts, offers) are not marked: the domain accepts only lowercase ones, so
/// no two stored slugs differ by case, and a lookup by a case variant is answered as unknown in memory.
/// </summary>
internal static class CaseSensitiveIdentifiers
{
    /// <summary>The SQL Server collation of case-sensitive identifiers (binary, ordinal).</summary>
    public const string SqlServerCollation = "Latin1_General_100_BIN2";

    private const string Annotation = "HlmHub:CaseSensitive";

    /// <summary>Marks a text column (<typeparamref name="TText"/>: string, or string? as in OpenIddict's entities) case-sensitive on SQL Server.</summary>
    public static PropertyBuilder<TText> CaseSensitiveOnSqlServer<TText>(this PropertyBuilder<TText> builder) =>
        builder.HasAnnotation(Annotation, true);

    /// <summary>Applies the binary collation to the marked columns; called for SQL Server models only.</summary>
    public static void ApplyForSqlServer(ModelBuilder modelBuilder)
    {
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(entity => entity.GetProperties()))
        {
            if (property.FindAnnotation(Annotation)?.Value is true)
            {
                property.SetCollation(SqlServerCollation);
            }
        }
    }
}
