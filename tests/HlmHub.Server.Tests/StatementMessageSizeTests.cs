using Google.Protobuf;
using HlmHub.Contracts.V1;
using HlmHub.Server.Features.Statements;

namespace HlmHub.Server.Tests;

/// <summary>
/// The bound <c>Statements:MaxEventIds</c> is checked against at start-up: a statement at both limits, every id at its
/// longest, fits <c>Hub:MaxMessageSizeBytes</c> as a gRPC message and as compact JSON; one more event id may not.
/// </summary>
public sealed class StatementMessageSizeTests
{
    [Theory]
    [InlineData(4 * 1024 * 1024, 1_000)]
    [InlineData(1024 * 1024, 10)]
    [InlineData(16 * 1024, 1)]
    public void AStatementAtTheBound_FitsTheMessageSize_AsProtobufAndAsJson(int maxMessageBytes, int lines)
    {
        var maxEventIds = (int)StatementMessageSize.MaxEventIds(maxMessageBytes, lines);
        var atTheBound = WorstStatement(lines, maxEventIds);
        var oneMore = WorstStatement(lines, maxEventIds + 1);

        Assert.True(maxEventIds > 0);
        Assert.InRange(atTheBound.CalculateSize(), 0, maxMessageBytes);
        Assert.InRange(CompactJson(atTheBound).Length, 0, maxMessageBytes);
        Assert.True(Math.Max(oneMore.CalculateSize(), CompactJson(oneMore).Length) > maxMessageBytes - 1_000, "the bound is tight, not a guess far below the limit");
    }

    // The JSON a partner's client sends to POST /v1/statements, without the spaces Google.Protobuf's formatter adds.
    private static string CompactJson(SubmitStatementRequest request) =>
        System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(JsonFormatter.Default.Format(request)).RootElement);

    private static SubmitStatementRequest WorstStatement(int lines, int eventIds)
    {
        var request = new SubmitStatementRequest { ClubId = new string('c', Domain.Limits.SlugMaxLength), Period = "2026-11" };
        for (var index = 0; index < lines; index++)
        {
            request.Lines.Add(new StatementLine
            {
                OfferId = new string('o', Domain.Limits.SlugMaxLength),
                RedemptionCount = int.MinValue,
                PurchaseTotalCents = -Domain.Limits.MaxTotalCents,
                DiscountTotalCents = -Domain.Limits.MaxTotalCents,
            });
        }

        for (var index = 0; index < eventIds; index++)
        {
            request.EventIds.Add(new string('e', Domain.Limits.PartnerEventIdMaxLength));
        }

        return request;
    }
}
