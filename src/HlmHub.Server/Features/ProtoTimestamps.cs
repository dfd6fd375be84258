using Google.Protobuf.WellKnownTypes;

namespace HlmHub.Server.Features;

/// <summary>What a client may send as a <c>google.protobuf.Timestamp</c>, read before it is converted.</summary>
internal static class ProtoTimestamps
{
    // The type's own valid range, 0001-01-01 to 9999-12-31: outside it ToDateTimeOffset throws.
    private const long MinSeconds = -62_135_596_800;
    private const long MaxSeconds = 253_402_300_799;

    public static bool IsValid(Timestamp timestamp) =>
        timestamp.Seconds is >= MinSeconds and <= MaxSeconds && timestamp.Nanos is >= 0 and < 1_000_000_000;
}
