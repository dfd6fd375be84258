namespace HlmHub.Server.Features.Fees;

/// <summary>The fee jobs' settings, bound from <c>Fees</c>; each default is documented in docs/scheduling.md.</summary>
internal sealed class FeeOptions
{
    public const string SectionName = "Fees";

    /// <summary>Days a partner has to pay a fee once it falls due (default <see cref="Domain.Ledger.FeeBooking.DefaultPaymentTermDays"/>, 30; 0 to 366).</summary>
    public int PaymentTermDays { get; set; } = Domain.Ledger.FeeBooking.DefaultPaymentTermDays;

    /// <summary>Contracts read and booked per batch (default 200): one keyset page, so memory stays flat however many contracts there are.</summary>
    public int ContractBatchSize { get; set; } = 200;
}
