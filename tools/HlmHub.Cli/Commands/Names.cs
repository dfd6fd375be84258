using Google.Protobuf.WellKnownTypes;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary>How enum values and instants read in every output: lower-case words, ISO instants in UTC.</summary>
internal static class Names
{
    public static string Of(V1.DiscrepancyKind kind) => Words(kind.ToString());

    public static string Of(V1.PartnerKind kind) => kind == V1.PartnerKind.Unspecified ? "all" : Words(kind.ToString());

    public static string Of(V1.LedgerAccountKind kind) => Words(kind.ToString());

    public static string? Of(Timestamp? instant) =>
        instant?.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    // FeeNotAccrued -> fee_not_accrued: the form scripts match on, the same in CSV, JSON and the table.
    private static string Words(string pascal) =>
        string.Concat(pascal.Select((c, index) => char.IsUpper(c) && index > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
