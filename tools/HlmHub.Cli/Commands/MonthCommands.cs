using System.CommandLine;
using HlmHub.Cli.Output;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary><c>hlmhub month close</c>: freezes a club's reconciled month.</summary>
internal static class MonthCommands
{
    public static Command Create(CliContext context)
    {
        var month = new Command("month", "A club's accounting months");
        month.Subcommands.Add(Close(context));
        return month;
    }

    private static Command Close(CliContext context)
    {
        var club = Arguments.Club();
        var period = Arguments.Month();
        var accept = new Option<bool>("--accept-discrepancies") { Description = "Close even though the month's latest reconciliation found discrepancies" };
        var format = Tabular.FormatOption();
        var command = new Command("close", "Closes (freezes) a reconciled month: later bookings go to the next open month") { club, period, accept, format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.ClosePeriodRequest
            {
                ClubId = parse.GetRequiredValue(club),
                Period = parse.GetRequiredValue(period),
                AcceptDiscrepancies = parse.GetValue(accept),
            };
            var closed = await session.CallAsync(options => session.Admin.ClosePeriodAsync(request, options), cancellationToken);
            var rows = new Tabular(closed.AlreadyClosed ? $"{closed.Period} was already closed" : $"{closed.Period} closed", [
                new("club_id"), new("period"), new("closed_at"), new("already_closed", ColumnKind.Flag), new("run_id"), new("discrepancy_total", ColumnKind.Number),
            ]);
            rows.Add(closed.ClubId, closed.Period, Names.Of(closed.ClosedAt), closed.AlreadyClosed, closed.RunId, closed.DiscrepancyTotal);
            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }
}
