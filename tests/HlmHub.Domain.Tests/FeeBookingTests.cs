using HlmHub.Domain;
using HlmHub.Domain.Ledger;

namespace HlmHub.Domain.Tests;

public sealed class FeeBookingTests
{
    [Fact]
    public void Fee_FallsDueOnTheStartDateAndEachAnniversary_UntilTheContractEnds()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
        var start = contract.StartDate;

        var due = FeeBooking.DueDatesBetween(contract, start.AddYears(-1), start.AddYears(3)).ToList();
        Assert.Equal([start, start.AddYears(1), start.AddYears(2), start.AddYears(3)], due);

        contract.End(start.AddYears(2).AddDays(-1), Samples.Now);
        Assert.Equal([start, start.AddYears(1)], FeeBooking.DueDatesBetween(contract, start, start.AddYears(3)).ToList());
    }

    [Fact]
    public void AContractWithoutAFee_HasNoDueDates_SoNothingIsAccruedOrOverdue()
    {
        var contract = Contract.Create(
            "contrat-association", Samples.Club(), Samples.Bakery(), Money.FromCents(0), new DateOnly(2024, 3, 1), null, [], Samples.Now);

        Assert.Empty(FeeBooking.DueDatesBetween(contract, contract.StartDate, contract.StartDate.AddYears(3)));
    }

    [Fact]
    public void Accrual_DebitsTheReceivableAndCreditsRevenue_KeyedByContractAndMonth()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
        var dueDate = contract.StartDate.AddYears(1);
        var period = new Period(dueDate.Year, dueDate.Month);

        var accrual = FeeBooking.Accrual(Guid.NewGuid(), contract, dueDate, period, Samples.Now);

        Assert.Equal(IdempotencyKeys.FeeAccrual(contract.Id, period), accrual.IdempotencyKey);
        Assert.Equal(FeeBooking.AccrualKey(contract, dueDate), accrual.IdempotencyKey);
        Assert.Equal(
            [
                (LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId), EntrySide.Debit, contract.YearlyFee),
                (LedgerAccount.IdFor(contract.ClubId, AccountKind.FeeRevenue), EntrySide.Credit, contract.YearlyFee),
            ],
            accrual.Entries.Select(entry => (entry.AccountId, entry.Side, entry.Amount)));
        Assert.Equal(Period.StartOfDayUtc(dueDate), accrual.OccurredAt);
        Assert.Equal(period, Period.Of(accrual.OccurredAt));
        Assert.Equal(dueDate.AddDays(30), FeeBooking.PayBy(dueDate));
    }
}
