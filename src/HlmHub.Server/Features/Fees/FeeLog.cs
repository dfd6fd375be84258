namespace HlmHub.Server.Features.Fees;

/// <summary>The fee jobs' log messages, with fixed event ids (4300-4349).</summary>
internal static partial class FeeLog
{
    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Fee accrual up to {Today}: {Booked} fee(s) booked, {AlreadyBooked} already booked, {Contracts} contract(s) read.")]
    public static partial void AccrualFinished(ILogger logger, DateOnly today, int booked, int alreadyBooked, int contracts);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Booked the yearly fee of contract {ContractId} due {DueDate} in {Period} ({Amount}).")]
    public static partial void FeeBooked(ILogger logger, string contractId, DateOnly dueDate, string period, string amount);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "Fee of contract {ContractId} due {DueDate} is overdue: {Outstanding} outstanding after {PayBy} (partner {PartnerId}, club {ClubId}).")]
    public static partial void FeeOverdue(ILogger logger, string contractId, DateOnly dueDate, string outstanding, DateOnly payBy, string partnerId, string clubId);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Information, Message = "Overdue fee check on {Today}: {Recorded} newly overdue fee(s), {AlreadyRecorded} already recorded, {Contracts} contract(s) read.")]
    public static partial void OverdueCheckFinished(ILogger logger, DateOnly today, int recorded, int alreadyRecorded, int contracts);
}
