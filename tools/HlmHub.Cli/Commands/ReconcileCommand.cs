using System.CommandLine;
using Grpc.Core;
using HlmHub.Cli.Connection;
using HlmHub.Cli.Output;
using Spectre.Console;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary>
/// <c>hlmhub reconcile</c>: runs the month's reconciliation on the hub, drawing its progress stream as a live bar per
/// phase, then prints the summary. Exit code 1 when the run found discrepancies, so a script can stop there.
/// </summary>
internal static class ReconcileCommand
{
    public static Command Create(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month();
        var dryRun = new Option<bool>("--dry-run") { Description = "Compute the report and record nothing" };
        var command = new Command("reconcile", "Reconciles a club's month: accepted redemptions, partners' statements and the ledger (exit 1 if discrepancies)")
        {
            club, month, dryRun,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.RunReconciliationRequest
            {
                ClubId = parse.GetRequiredValue(club),
                Period = parse.GetRequiredValue(month),
                DryRun = parse.GetValue(dryRun),
            };
            var report = await RunAsync(context, session, request, cancellationToken);
            WriteSummary(context, report);
            return report.DiscrepancyTotal > 0 ? ExitCodes.DiscrepanciesFound : ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<V1.ReconciliationReport> RunAsync(
        CliContext context, HubSession session, V1.RunReconciliationRequest request, CancellationToken cancellationToken)
    {
        V1.ReconciliationReport? report = null;
        try
        {
            // The stream lasts as long as the run: no deadline, Ctrl+C cancels it.
            using var call = session.Admin.RunReconciliation(request, HubSession.StreamOptions(cancellationToken));
            if (!context.Console.Profile.Capabilities.Interactive)
            {
                // Piped or logged: no live bar to redraw, one line per phase as it ends.
                return await LogPhasesAsync(context, call, cancellationToken);
            }

            await context.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var phases = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
                    {
                        if (update.UpdateCase == V1.RunReconciliationUpdate.UpdateOneofCase.Progress)
                        {
                            Show(progress, phases, update.Progress);
                        }
                        else if (update.UpdateCase == V1.RunReconciliationUpdate.UpdateOneofCase.Report)
                        {
                            report = update.Report;
                            foreach (var task in phases.Values)
                            {
                                task.Value = task.MaxValue;
                                task.StopTask();
                            }
                        }
                    }
                });
        }
        catch (RpcException exception)
        {
            throw session.Failure(exception);
        }

        return report ?? throw new CliException(ExitCodes.Refused, "the hub ended the reconciliation stream without a report: run it again");
    }

    private static async Task<V1.ReconciliationReport> LogPhasesAsync(
        CliContext context, AsyncServerStreamingCall<V1.RunReconciliationUpdate> call, CancellationToken cancellationToken)
    {
        V1.ReconciliationProgress? last = null;
        void Log(V1.ReconciliationProgress phase) =>
            context.Output.WriteLine($"phase {phase.PhaseNumber}/{phase.PhaseCount} {phase.Phase}: {phase.Done:#,##0} of {phase.Total:#,##0} done");

        await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (update.UpdateCase == V1.RunReconciliationUpdate.UpdateOneofCase.Report)
            {
                if (last is not null)
                {
                    Log(last);
                }

                return update.Report;
            }

            if (update.UpdateCase == V1.RunReconciliationUpdate.UpdateOneofCase.Progress)
            {
                if (last is not null && last.Phase != update.Progress.Phase)
                {
                    Log(last);
                }

                last = update.Progress;
            }
        }

        throw new CliException(ExitCodes.Refused, "the hub ended the reconciliation stream without a report: run it again");
    }

    private static void Show(ProgressContext progress, Dictionary<string, ProgressTask> phases, V1.ReconciliationProgress update)
    {
        if (!phases.TryGetValue(update.Phase, out var task))
        {
            var label = update.PhaseCount > 0 ? $"{update.PhaseNumber}/{update.PhaseCount} {update.Phase}" : update.Phase;
            task = progress.AddTask(Markup.Escape(label), maxValue: Math.Max(1, update.Total));
            phases[update.Phase] = task;
        }

        task.MaxValue = Math.Max(1, update.Total);
        task.Value = update.Total == 0 ? task.MaxValue : Math.Min(update.Done, update.Total);
    }

    private static void WriteSummary(CliContext context, V1.ReconciliationReport report)
    {
        var summary = new Table { Title = new TableTitle(Markup.Escape($"Reconciliation of {report.ClubId}, {report.Period}{(report.DryRun ? " (dry run: nothing recorded)" : "")}")) };
        summary.AddColumn("item");
        summary.AddColumn(new TableColumn("value").RightAligned());
        summary.AddRow("run", Markup.Escape(report.RunId.Length > 0 ? report.RunId : "(dry run)"));
        summary.AddRow("started by", Markup.Escape(report.StartedBy));
        summary.AddRow("duration", $"{report.DurationMs:#,##0} ms");
        summary.AddRow("month closed", report.PeriodClosed ? "yes" : "no");
        summary.AddRow("accepted redemptions", Count(report.Redemptions));
        summary.AddRow("cancellations", Count(report.Cancellations));
        summary.AddRow("purchases (net)", Markup.Escape(Tabular.Euros(report.PurchaseTotalCents)));
        summary.AddRow("discounts (net)", Markup.Escape(Tabular.Euros(report.DiscountTotalCents)));
        summary.AddRow("partner statements", Count(report.Statements));
        summary.AddRow("ledger transactions", Count(report.LedgerTransactions));
        summary.AddRow(report.DiscrepancyTotal > 0 ? "[red]discrepancies[/]" : "[green]discrepancies[/]", Count(report.DiscrepancyTotal));
        foreach (var count in report.DiscrepancyCounts)
        {
            summary.AddRow("  " + Names.Of(count.Kind), Count(count.Count));
        }

        context.Console.Write(summary);
        if (report.DiscrepancyTotal > 0)
        {
            context.Console.MarkupLine(Markup.Escape(
                $"See them with: hlmhub report discrepancies --club {report.ClubId} --month {report.Period}{(report.DryRun ? " (after a recorded run)" : "")}"));
        }
    }

    private static string Count(long value) => value.ToString("#,##0", System.Globalization.CultureInfo.InvariantCulture);
}
