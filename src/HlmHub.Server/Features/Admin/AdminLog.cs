namespace HlmHub.Server.Features.Admin;

/// <summary>
/// The Admin API's log messages, with fixed event ids (4100-4199) so operators can follow administrative changes.
/// They name the acting client and the ids changed, never secrets.
/// </summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Admin client {ClientId} created {EntityKind} {EntityId}.")]
    public static partial void Created(ILogger logger, string clientId, string entityKind, string entityId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Admin client {ClientId} changed {EntityKind} {EntityId}: {Change}.")]
    public static partial void Changed(ILogger logger, string clientId, string entityKind, string entityId, string change);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Admin client {ClientId} recorded fee payment {PaymentReference} of {Amount} on contract {ContractId}.")]
    public static partial void FeePaymentRecorded(ILogger logger, string clientId, string paymentReference, string amount, string contractId);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "Admin client {ClientId} recorded subsidy settlement {PaymentReference} of {Amount} to partner {PartnerId} in club {ClubId}.")]
    public static partial void SubsidySettlementRecorded(ILogger logger, string clientId, string paymentReference, string amount, string partnerId, string clubId);
}
