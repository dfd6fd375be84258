using HlmHub.Domain;
using HlmHub.Domain.Ledger;

namespace HlmHub.Domain.Tests;

public sealed class ContractRuleTests
{
    [Fact]
    public void DefaultFees_Are100EurosAnd1000ForBuildingTrades()
    {
        Assert.Equal(Money.FromEuros(1_000), Samples.ContractFor(Samples.Plumber(), "contrat-plombier").YearlyFee);
        Assert.Equal(Money.FromEuros(100), Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie").YearlyFee);
    }

    [Theory]
    [InlineData(1999, 12, 31, null)]
    [InlineData(2026, 1, 1, 3000)]
    public void ContractDatedOutsideTheYearsTheLedgerKeeps_IsRefusedNamingTheDate(int year, int month, int day, int? endYear)
    {
        var error = Assert.Throws<DomainException>(() => Contract.Create(
            "contrat-boulangerie", Samples.Club(), Samples.Bakery(), null, new DateOnly(year, month, day),
            endYear is { } end ? new DateOnly(end, 1, 1) : null, [], Samples.Now));

        Assert.Equal((DomainErrorKind.InvalidArgument, endYear is null ? "startDate" : "endDate"), (error.Kind, error.Field));
        Assert.Contains("must be in the years 2000 to 2999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EndingAContractAfterTheYearsTheLedgerKeeps_IsRefused()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");

        var error = Assert.Throws<DomainException>(() => contract.End(new DateOnly(3000, 1, 1), Samples.Now));

        Assert.Equal((DomainErrorKind.InvalidArgument, "endDate"), (error.Kind, error.Field));
        Assert.Null(contract.EndDate);
    }

    [Fact]
    public void YearlyFeeOverTheAmountLimit_IsRefused_ButZeroIsAFreeContract()
    {
        var error = Assert.Throws<DomainException>(() => Contract.Create(
            "contrat-boulangerie", Samples.Club(), Samples.Bakery(), Money.FromCents(Limits.MaxAmountCents + 1), new DateOnly(2026, 1, 1), null, [], Samples.Now));
        var free = Contract.Create(
            "contrat-association", Samples.Club(), Samples.Bakery(), Money.FromCents(0), new DateOnly(2026, 1, 1), null, [], Samples.Now);

        Assert.Equal((DomainErrorKind.InvalidArgument, "yearlyFee"), (error.Kind, error.Field));
        Assert.Equal(0, free.YearlyFee.Cents);
    }

    [Fact]
    public void SecondActivePlumber_IsRefusedNamingTheTrade()
    {
        var first = Samples.ContractFor(Samples.Plumber(), "contrat-plombier-1");

        var error = Assert.Throws<DomainException>(() => Contract.Create(
            "contrat-plombier-2", Samples.Club(), Samples.Plumber("plomberie-martin"), null, new DateOnly(2026, 2, 1), null, [first], Samples.Now));

        Assert.Equal("trade", error.Field);
        Assert.Equal(DomainErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("plumber", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlumberAfterTheFirstEnded_IsAccepted()
    {
        var first = Samples.ContractFor(Samples.Plumber(), "contrat-plombier-1");
        first.End(new DateOnly(2026, 6, 30), Samples.Now);

        var second = Contract.Create(
            "contrat-plombier-2", Samples.Club(), Samples.Plumber("plomberie-martin"), null, new DateOnly(2026, 7, 1), null, [first], Samples.Now);

        Assert.Equal(ContractStatus.Active, second.Status);
    }

    [Fact]
    public void AContractNotInForceYet_IsWithdrawnWithTheDayBeforeItsStart_AndNoFeeFallsDue()
    {
        var contract = Contract.Create(
            "contrat-2027", Samples.Club(), Samples.Plumber(), null, new DateOnly(2027, 1, 1), null, [], Samples.Now);

        var tooEarly = Assert.Throws<DomainException>(() => contract.End(new DateOnly(2026, 12, 30), Samples.Now));
        Assert.Contains("2026-12-31", tooEarly.Message, StringComparison.Ordinal);
        contract.End(new DateOnly(2026, 12, 31), Samples.Now);

        Assert.Empty(FeeBooking.DueDatesBetween(contract, new DateOnly(2026, 1, 1), new DateOnly(2030, 12, 31)));
        Assert.Equal(ContractStatus.Ended, contract.StatusAt(new DateTimeOffset(2027, 1, 1, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void AContractInForce_CannotEndBeforeItsStart()
    {
        var contract = Samples.ContractFor(Samples.Plumber(), "contrat-plombier-1");

        var error = Assert.Throws<DomainException>(() => contract.End(contract.StartDate.AddDays(-1), Samples.Now));

        Assert.Equal("endDate", error.Field);
    }

    [Fact]
    public void ResumingWhenTheTradeWasTaken_IsRefused()
    {
        var first = Samples.ContractFor(Samples.Plumber(), "contrat-plombier-1");
        first.Suspend(Samples.Now);
        var second = Contract.Create(
            "contrat-plombier-2", Samples.Club(), Samples.Plumber("plomberie-martin"), null, new DateOnly(2026, 7, 1), null, [], Samples.Now);

        Assert.Throws<DomainException>(() => first.Resume(Samples.Now, [second]));
    }

    [Fact]
    public void BuildingTradeWithoutTrade_AndMerchantWithTrade_AreRefused()
    {
        Assert.Equal("trade", Assert.Throws<DomainException>(() =>
            Partner.Create("x", "X", PartnerKind.BuildingTrade, null, "55210055400013", false, Samples.Now)).Field);
        Assert.Equal("trade", Assert.Throws<DomainException>(() =>
            Partner.Create("x", "X", PartnerKind.Merchant, "plumber", "55210055400013", false, Samples.Now)).Field);
    }

    [Fact]
    public void PartnerWithBadSiret_IsRefused()
    {
        Assert.Equal("siret", Assert.Throws<DomainException>(() =>
            Partner.Create("x", "X", PartnerKind.Merchant, null, "55210055400014", false, Samples.Now)).Field);
    }
}

public sealed class FederationAndMembershipTests
{
    [Fact]
    public void Proposal_IsActiveOnlyOnceTheOtherPartyAccepts()
    {
        var club = Samples.Club();
        var agreement = FederationAgreement.Propose(Guid.NewGuid(), club, "seine-saint-denis-habitat", club.HostLandlordId, Samples.Now);

        var selfAcceptance = Assert.Throws<DomainException>(() => agreement.Accept(club, club.HostLandlordId, Samples.Now));
        Assert.Equal("acceptedByLandlordId", selfAcceptance.Field);
        Assert.Equal(FederationStatus.Proposed, agreement.Status);

        agreement.Accept(club, "seine-saint-denis-habitat", Samples.Now.AddDays(2));
        Assert.Equal(FederationStatus.Active, agreement.Status);
        Assert.Equal(Samples.Now.AddDays(2), agreement.AcceptedAt);

        agreement.End(club, club.HostLandlordId, Samples.Now.AddDays(30));
        Assert.Equal(FederationStatus.Ended, agreement.Status);
        Assert.Throws<DomainException>(() => agreement.Accept(club, "seine-saint-denis-habitat", Samples.Now));
    }

    [Fact]
    public void FederatingTheHostItself_IsRefused()
    {
        var club = Samples.Club();

        Assert.Throws<DomainException>(() => FederationAgreement.Propose(Guid.NewGuid(), club, club.HostLandlordId, club.HostLandlordId, Samples.Now));
    }

    [Fact]
    public void HouseholdOfUnfederatedNeighbour_CannotJoin()
    {
        var club = Samples.Club();
        var neighbour = Household.Create(Guid.NewGuid(), "seine-saint-denis-habitat", "N-1", "mt_n", 2, false, Samples.Now);

        Assert.Throws<DomainException>(() => Membership.Join(club, neighbour, landlordFederated: false, Samples.Now));
        Assert.True(Membership.Join(club, neighbour, landlordFederated: true, Samples.Now).IsActive);
    }

    [Fact]
    public void HouseholdUpdate_MovesTheVersionOnlyOnChange()
    {
        var household = Samples.Household(rooms: 3);

        Assert.False(household.Update(3, household.InQpv, HouseholdStatus.Active, Samples.Now));
        Assert.Equal(1, household.Version);
        Assert.True(household.Update(4, household.InQpv, HouseholdStatus.Active, Samples.Now));
        Assert.Equal(2, household.Version);
        Assert.Equal("rooms", Assert.Throws<DomainException>(() => household.Update(8, false, HouseholdStatus.Active, Samples.Now)).Field);
    }

    [Fact]
    public void HouseholdStatusChangeTime_MovesWhenItLeavesOrComesBack_NotWhenOnlyItsRoomsOrQpvChange()
    {
        var household = Samples.Household(rooms: 3);
        var created = household.StatusChangedAt;

        household.Update(5, !household.InQpv, HouseholdStatus.Active, Samples.Now.AddDays(1));
        var afterRooms = (household.StatusChangedAt, household.UpdatedAt);
        household.Update(5, household.InQpv, HouseholdStatus.Left, Samples.Now.AddDays(2));
        var afterLeaving = household.StatusChangedAt;
        household.Update(5, household.InQpv, HouseholdStatus.Active, Samples.Now.AddDays(3));

        Assert.Equal(Samples.Now, created);
        Assert.Equal((Samples.Now, Samples.Now.AddDays(1)), afterRooms);
        Assert.Equal(Samples.Now.AddDays(2), afterLeaving);
        Assert.Equal(Samples.Now.AddDays(3), household.StatusChangedAt);
    }
}

public sealed class LedgerTests
{
    private static readonly Period November = new(2026, 11);

    [Fact]
    public void FeeAccrual_IsBalancedAndKeyedByContractAndPeriod()
    {
        var transaction = FeeAccrual();

        Assert.Equal("fee-accrual:contrat-plombier:2026-11", transaction.IdempotencyKey);
        Assert.Equal(2, transaction.Entries.Count);
        Assert.True(LedgerRules.IsBalanced(transaction.Entries.Select(entry => (entry.Side, entry.Amount))));
    }

    [Fact]
    public void UnbalancedTransaction_IsRefused()
    {
        var error = Assert.Throws<DomainException>(() => LedgerTransaction.Create(
            Guid.NewGuid(), "k", "club-plaine-commune", TransactionKind.FeeAccrual, November, "fee", Samples.Now, Samples.Now,
            [Posting.Debit("a", Money.FromEuros(10)), Posting.Credit("b", Money.FromEuros(9))]));

        Assert.Equal("entries", error.Field);
    }

    [Fact]
    public void ZeroOrSingleEntry_IsRefused()
    {
        Assert.Throws<DomainException>(() => LedgerTransaction.Create(
            Guid.NewGuid(), "k", "club-plaine-commune", TransactionKind.FeeAccrual, November, "fee", Samples.Now, Samples.Now,
            [Posting.Debit("a", Money.Zero), Posting.Credit("b", Money.Zero)]));
        Assert.Throws<DomainException>(() => LedgerTransaction.Create(
            Guid.NewGuid(), "k", "club-plaine-commune", TransactionKind.FeeAccrual, November, "fee", Samples.Now, Samples.Now,
            [Posting.Debit("a", Money.FromEuros(1))]));
    }

    [Fact]
    public void Reversal_SwapsSidesAndDerivesItsKey()
    {
        var original = FeeAccrual();

        var reversal = original.Reverse(Guid.NewGuid(), November.Next(), "fee cancelled", Samples.Now);

        Assert.Equal("reversal:" + original.IdempotencyKey, reversal.IdempotencyKey);
        Assert.Equal(original.Id, reversal.ReversesTransactionId);
        Assert.Equal(original.Entries.Select(entry => entry.Side == EntrySide.Debit ? EntrySide.Credit : EntrySide.Debit),
            reversal.Entries.Select(entry => entry.Side));
        Assert.Throws<DomainException>(() => reversal.Reverse(Guid.NewGuid(), November, "again", Samples.Now));
    }

    [Fact]
    public void AccountIds_AreReadable()
    {
        Assert.Equal("club-plaine-commune/plomberie-dupont/fees-receivable",
            LedgerAccount.IdFor("club-plaine-commune", AccountKind.FeesReceivable, "plomberie-dupont"));
        Assert.Equal("club-plaine-commune/bank", LedgerAccount.Create("club-plaine-commune", AccountKind.Bank).Id);
    }

    private static LedgerTransaction FeeAccrual() => LedgerTransaction.Create(
        Guid.NewGuid(),
        IdempotencyKeys.FeeAccrual("contrat-plombier", November),
        "club-plaine-commune",
        TransactionKind.FeeAccrual,
        November,
        "Yearly fee, plumber",
        Samples.Now,
        Samples.Now,
        [
            Posting.Debit(LedgerAccount.IdFor("club-plaine-commune", AccountKind.FeesReceivable, "plomberie-dupont"), Money.FromEuros(1_000)),
            Posting.Credit(LedgerAccount.IdFor("club-plaine-commune", AccountKind.FeeRevenue), Money.FromEuros(1_000)),
        ]);
}
