using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

/// <summary>
/// Identifiers that differ only by case are different identifiers (member tokens are base64url, partners' event
/// ids and idempotency keys are opaque). SQLite and PostgreSQL compare text case-sensitively already; SQL Server's
/// usual collations do not, so there these columns get a binary collation, or "evt-A" would be a duplicate of
/// "evt-a" and a member token would match another's case variant.
/// </summary>
internal static class CaseSensitiveIdentifiers
{
    /// <summary>The SQL Server collation of case-sensitive identifiers (binary, ordinal).</summary>
    public const string SqlServerCollation = "Latin1_General_100_BIN2";

    private const string Annotation = "HlmHub:CaseSensitive";

    public static PropertyBuilder<string> CaseSensitiveOnSqlServer(this PropertyBuilder<string> builder) =>
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
