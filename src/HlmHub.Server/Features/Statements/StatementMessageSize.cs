using Google.Protobuf;
using HlmHub.Domain;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Statements;

/// <summary>
/// The largest a statement of so many lines and event ids can be, every id at its longest (offer and club ids of
/// <see cref="Limits.SlugMaxLength"/> characters, event ids of <see cref="Limits.PartnerEventIdMaxLength"/> ASCII
/// characters, totals at their bound), as a gRPC message or as the compact JSON of <c>POST /v1/statements</c>,
/// whichever is larger: <c>Statements:MaxLines</c> and <c>Statements:MaxEventIds</c> must allow only statements that
/// fit <c>Hub:MaxMessageSizeBytes</c>, or a partner within them is refused by the message size instead.
/// </summary>
internal static class StatementMessageSize
{
    private static readonly int Envelope = EnvelopeSize();

    private static readonly int Line = LineSize();

    private static readonly int EventId = EventIdSize();

    /// <summary>Bytes of the largest statement of <paramref name="lines"/> lines and <paramref name="eventIds"/> event ids.</summary>
    public static long WorstCase(long lines, long eventIds) => Envelope + (lines * Line) + (eventIds * EventId);

    /// <summary>The most event ids of the longest kind that fit <paramref name="maxMessageBytes"/> beside <paramref name="lines"/> lines (0 when none do).</summary>
    public static long MaxEventIds(long maxMessageBytes, long lines) => Math.Max(0, (maxMessageBytes - WorstCase(lines, 0)) / EventId);

    /// <summary>The most lines of the longest kind that fit <paramref name="maxMessageBytes"/> with no event id.</summary>
    public static long MaxLines(long maxMessageBytes) => Math.Max(0, (maxMessageBytes - WorstCase(0, 0)) / Line);

    private static int EnvelopeSize()
    {
        var request = new V1.SubmitStatementRequest { ClubId = new string('a', Limits.SlugMaxLength), Period = "2026-11" };
        // The JSON of the empty lists too: {"clubId":"...","period":"2026-11","lines":[],"eventIds":[]}.
        return Math.Max(request.CalculateSize(), CompactJson(request).Length + ",\"lines\":[],\"eventIds\":[]".Length);
    }

    private static int LineSize()
    {
        var line = new V1.StatementLine
        {
            OfferId = new string('a', Limits.SlugMaxLength),
            RedemptionCount = int.MinValue,
            PurchaseTotalCents = -Limits.MaxTotalCents,
            DiscountTotalCents = -Limits.MaxTotalCents,
        };
        // A one-byte tag and the length in protobuf; a separating comma in JSON.
        return Math.Max(1 + CodedOutputStream.ComputeMessageSize(line), CompactJson(line).Length + 1);
    }

    // What a partner's client sends: Google.Protobuf's formatter puts a space after every ':' and ','.
    private static string CompactJson(IMessage message) =>
        System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(JsonFormatter.Default.Format(message)).RootElement);

    private static int EventIdSize()
    {
        var eventId = new string('a', Limits.PartnerEventIdMaxLength);
        // A one-byte tag and the length in protobuf; two quotes and a comma in JSON.
        return Math.Max(1 + CodedOutputStream.ComputeStringSize(eventId), eventId.Length + 3);
    }
}
