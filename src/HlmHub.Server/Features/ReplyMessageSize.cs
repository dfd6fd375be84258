using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HlmHub.Domain;
using HlmHub.Domain.Roster;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features;

/// <summary>
/// The largest replies whose length a setting decides (a reconciliation report's discrepancies, a roster session's
/// problems, a page of member tokens), every item at its longest: every string at its column's bound, in three-byte
/// UTF-8 characters where the text may be any text (a landlord's reference, a message or detail), every number at its
/// longest encoding. grpc-dotnet refuses to send a message over <c>Hub:MaxMessageSizeBytes</c> and the caller gets
/// RESOURCE_EXHAUSTED instead of its answer, naming no setting: these settings are checked against it at start-up, as
/// the statement limits are (<see cref="Statements.StatementMessageSize"/>).
/// </summary>
internal static class ReplyMessageSize
{
    /// <summary>A BMP character outside ASCII: three bytes in UTF-8, the most one UTF-16 unit takes.</summary>
    private const char WidestChar = '€';

    /// <summary>What wraps a report in RunReconciliation's stream (RunReconciliationUpdate's field tag and length).</summary>
    private const int StreamWrapper = 1 + 5;

    private static readonly int ReportEnvelope = ReportEnvelopeSize();

    private static readonly int Discrepancy = DiscrepancySize();

    private static readonly int SyncEnvelope = SyncEnvelopeSize();

    private static readonly int Problem = ProblemSize();

    private static readonly int MemberToken = MemberTokenSize();

    /// <summary>The most discrepancies at their longest one report can carry within <paramref name="maxMessageBytes"/>.</summary>
    public static long MaxDiscrepancies(long maxMessageBytes) => Math.Max(0, (maxMessageBytes - ReportEnvelope - StreamWrapper) / Discrepancy);

    /// <summary>The most problems at their longest one roster session's answer can carry within <paramref name="maxMessageBytes"/>.</summary>
    public static long MaxProblems(long maxMessageBytes) => Math.Max(0, (maxMessageBytes - SyncEnvelope) / Problem);

    /// <summary>The most member tokens, references at their longest, one page can carry within <paramref name="maxMessageBytes"/>.</summary>
    public static long MaxMemberTokens(long maxMessageBytes) => Math.Max(0, maxMessageBytes / MemberToken);

    private static string Longest(int length, char character = 'a') => new(character, length);

    private static Timestamp LatestTimestamp() => new() { Seconds = 253_402_300_799, Nanos = 999_999_999 };

    private static int ReportEnvelopeSize()
    {
        var report = new V1.ReconciliationReport
        {
            RunId = Guid.Empty.ToString(),
            ClubId = Longest(Limits.SlugMaxLength),
            Period = "2026-11",
            DryRun = true,
            StartedBy = Longest(Limits.NameMaxLength, WidestChar),
            StartedAt = LatestTimestamp(),
            DurationMs = long.MinValue,
            PeriodClosed = true,
            Redemptions = long.MinValue,
            Cancellations = long.MinValue,
            DiscountTotalCents = long.MinValue,
            PurchaseTotalCents = long.MinValue,
            Statements = long.MinValue,
            LedgerTransactions = long.MinValue,
            DiscrepancyTotal = long.MinValue,
            DiscrepanciesTruncated = true,
            InputsFingerprint = Longest(128),
        };
        foreach (var kind in System.Enum.GetValues<V1.DiscrepancyKind>())
        {
            report.DiscrepancyCounts.Add(new V1.DiscrepancyCount { Kind = kind, Count = long.MinValue });
        }

        return report.CalculateSize();
    }

    private static int DiscrepancySize()
    {
        var discrepancy = new V1.Discrepancy
        {
            Kind = System.Enum.GetValues<V1.DiscrepancyKind>().Max(),
            PartnerId = Longest(Limits.SlugMaxLength),
            OfferId = Longest(Limits.SlugMaxLength),
            ContractId = Longest(Limits.SlugMaxLength),
            PartnerEventId = Longest(Limits.PartnerEventIdMaxLength),
            AccountId = Longest(Limits.LedgerAccountIdMaxLength),
            ExpectedCents = long.MinValue,
            ActualCents = long.MinValue,
            ExpectedCount = long.MinValue,
            ActualCount = long.MinValue,
            Detail = Longest(Limits.DescriptionMaxLength, WidestChar),
        };
        // A one-byte tag and the length.
        return 1 + CodedOutputStream.ComputeMessageSize(discrepancy);
    }

    private static int SyncEnvelopeSize()
    {
        var response = new V1.SyncRosterResponse
        {
            Session = new V1.SyncSession
            {
                SessionId = Guid.Empty.ToString(),
                Kind = V1.SessionKind.Delta,
                Completed = true,
                LastSequence = long.MinValue,
                Created = long.MinValue,
                Updated = long.MinValue,
                Removed = long.MinValue,
                Unchanged = long.MinValue,
                Stale = long.MinValue,
                Rejected = long.MinValue,
                StartedAt = LatestTimestamp(),
                CompletedAt = LatestTimestamp(),
                Abandoned = true,
            },
            ProblemsTruncated = true,
        };
        // Room for the fields SyncSession may gain: a few numbers.
        return response.CalculateSize() + 64;
    }

    private static int ProblemSize()
    {
        var problem = new V1.ItemProblem
        {
            Sequence = long.MinValue,
            LandlordReference = Longest(RosterSessionProblem.ReferenceMaxLength, WidestChar),
            Status = V1.ItemStatus.Rejected,
            Reason = System.Enum.GetValues<V1.RejectionReason>().Max(),
            Message = Longest(RosterSessionProblem.MessageMaxLength, WidestChar),
        };
        return 1 + CodedOutputStream.ComputeMessageSize(problem);
    }

    private static int MemberTokenSize()
    {
        var entry = new V1.MemberTokenEntry
        {
            LandlordReference = Longest(Limits.LandlordReferenceMaxLength, WidestChar),
            MemberToken = Longest(Limits.MemberTokenMaxLength),
            Active = true,
        };
        return 1 + CodedOutputStream.ComputeMessageSize(entry);
    }
}
