using Grpc.Core;
using HlmHub.Identity;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Reconciliation, reports, the ledger and closing a month (issue 11): contracts first, implementations follow.</summary>
internal sealed partial class AdminService
{
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task RunReconciliation(V1.RunReconciliationRequest request, IServerStreamWriter<V1.RunReconciliationUpdate> responseStream, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.ReconciliationReport> GetReconciliationReport(V1.GetReconciliationReportRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.ListDiscrepanciesResponse> ListDiscrepancies(V1.ListDiscrepanciesRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.GetBalancesResponse> GetBalances(V1.GetBalancesRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.ListLedgerEntriesResponse> ListLedgerEntries(V1.ListLedgerEntriesRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.ClosePeriodResponse> ClosePeriod(V1.ClosePeriodRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.GetFeeReportResponse> GetFeeReport(V1.GetFeeReportRequest request, ServerCallContext context) =>
        throw NotYet(context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.GetSavingsReportResponse> GetSavingsReport(V1.GetSavingsReportRequest request, ServerCallContext context) =>
        throw NotYet(context);

    private static RpcException NotYet(ServerCallContext context) =>
        new(new Status(StatusCode.Unimplemented, $"{context.Method}: not implemented yet"));
}
