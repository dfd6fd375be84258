using System.Text;
using HlmHub.Domain.Roster;
using HlmHub.Domain.Rules;

namespace HlmHub.Domain.Tests;

/// <summary>
/// Text the hub cuts before storing or repeating it: cut between whole characters, so it can be encoded as UTF-8.
/// PostgreSQL's client (Npgsql) encodes strictly, and refused half a surrogate pair on every attempt.
/// </summary>
public sealed class StoredTextTests
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [Fact]
    public void AnOversizedReference_IsRepeatedAndKept_CutBeforeAnEmojiTheCutWouldSplit()
    {
        var reference = new string('R', 99) + "😀x";

        var echoed = RosterRules.ReferenceForEcho(reference);
        var problem = RosterSessionProblem.Of(Guid.NewGuid(),
            new RosterItemResult(1, reference, RosterItemOutcome.Rejected, RosterRejection.Malformed, "landlord_reference: too long"));

        Assert.Equal(new string('R', 99) + "…", echoed);
        Assert.Equal(echoed, problem.LandlordReference);
        StrictUtf8.GetByteCount(problem.LandlordReference);
    }

    [Fact]
    public void AClubIdQuotedInAMessage_IsCutBeforeAnEmojiTheCutWouldSplit_AndTheKeptMessageEncodes()
    {
        var change = new RosterChange(1, RosterChangeKind.Upsert, "U-001", 1, 3, false, [new string('c', 39) + "😀"]);

        var (rejection, message) = RosterRules.CheckShape(change)!.Value;
        var problem = RosterSessionProblem.Of(Guid.NewGuid(), new RosterItemResult(1, "U-001", RosterItemOutcome.Rejected, rejection, message));

        Assert.Equal(RosterRejection.Malformed, rejection);
        Assert.Equal($"club_ids: '{new string('c', 39)}…' is not a club id", message);
        Assert.Equal(message, problem.Message);
        StrictUtf8.GetByteCount(problem.Message);
    }

    [Fact]
    public void AProblemsMessageOverItsColumn_IsCutBetweenWholeCharacters()
    {
        var message = new string('m', RosterSessionProblem.MessageMaxLength - 2) + "😀😀";

        var problem = RosterSessionProblem.Of(Guid.NewGuid(), new RosterItemResult(1, "U-001", RosterItemOutcome.Rejected, RosterRejection.Malformed, message));

        Assert.Equal(new string('m', RosterSessionProblem.MessageMaxLength - 2) + "…", problem.Message);
    }

    [Fact]
    public void ATooLongMemberToken_IsRecordedCutBeforeAnEmojiTheCutWouldSplit()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
        var (offer, version) = Offer.Create("pain-10", contract, "10 % sur le pain", Samples.Percent(1000), Samples.Now.AddDays(-1));
        var request = new RedemptionRequest(offer.PartnerId, "evt-1", offer.Id, "mt_" + new string('m', 60) + "😀x", Samples.Now, new Money(2_500), new Money(250));
        var facts = new RedemptionFacts(offer, version, contract, null, IsClubMember: false, PeriodUsage.None);

        var recorded = Redemption.Record(Guid.NewGuid(), request, facts, RedemptionDecision.Reject(RejectionReason.Malformed), Period.Of(Samples.Now), Samples.Now);

        Assert.Equal("mt_" + new string('m', 60), recorded.MemberToken);
    }
}
