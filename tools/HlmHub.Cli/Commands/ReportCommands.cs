using System.CommandLine;
using System.Text;
using System.Text.Json;
using HlmHub.Cli.Connection;
using HlmHub.Cli.Output;
using Spectre.Console;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary><c>hlmhub report fees|savings|discrepancies</c>: a club's month as tables, CSV or JSON.</summary>
internal static class ReportCommands
{
    private const int PageSize = 500;

    public static Command Create(CliContext context)
    {
        var report = new Command("report", "A club's reports for a month: partner fees, tenants' savings, reconciliation discrepancies");
        report.Subcommands.Add(Fees(context));
        report.Subcommands.Add(Savings(context));
        report.Subcommands.Add(Discrepancies(context));
        return report;
    }

    private static Command Fees(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month(description: "As of the end of this month, yyyy-MM (Europe/Paris)");
        var format = Tabular.FormatOption();
        var command = new Command("fees", "Per contract: fees accrued, paid, outstanding and overdue") { club, month, format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.GetFeeReportRequest { ClubId = parse.GetRequiredValue(club), Period = parse.GetRequiredValue(month) };
            var report = await session.CallAsync(options => session.Admin.GetFeeReportAsync(request, options), cancellationToken);
            var rows = new Tabular($"Partner fees of {report.ClubId} at the end of {report.Period}", [
                new("contract_id"), new("partner_id"), new("partner_name"), new("yearly_fee_cents", ColumnKind.Cents), new("accrued_cents", ColumnKind.Cents),
                new("paid_cents", ColumnKind.Cents), new("outstanding_cents", ColumnKind.Cents), new("overdue_cents", ColumnKind.Cents),
                new("last_due_date"), new("pay_by"),
            ]);
            foreach (var line in report.Lines)
            {
                rows.Add(line.ContractId, line.PartnerId, line.PartnerName, line.YearlyFeeCents, line.AccruedCents, line.PaidCents,
                    line.OutstandingCents, line.OverdueCents, line.LastDueDate, line.PayBy);
            }

            if (parse.GetValue(format) == OutputFormat.Table && report.Total is { } total)
            {
                rows.Add("total", "", "", total.YearlyFeeCents, total.AccruedCents, total.PaidCents, total.OutstandingCents, total.OverdueCents, "", "");
            }

            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Savings(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month(description: "The month, yyyy-MM (Europe/Paris); the first of a range with --to");
        var to = Arguments.Month("--to", required: false, description: "The last month of a range, yyyy-MM (default: --month alone)");
        var format = Tabular.FormatOption();
        var command = new Command("savings", "What tenants saved: households that used an offer, total and average per household, by partner kind and by month")
        {
            club, month, to, format,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.GetSavingsReportRequest
            {
                ClubId = parse.GetRequiredValue(club),
                FromPeriod = parse.GetRequiredValue(month),
                ToPeriod = parse.GetValue(to) ?? "",
            };
            var report = await session.CallAsync(options => session.Admin.GetSavingsReportAsync(request, options), cancellationToken);
            WriteSavings(context, report, parse.GetValue(format));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteSavings(CliContext context, V1.GetSavingsReportResponse report, OutputFormat format)
    {
        var singleMonth = report.FromPeriod == report.ToPeriod || report.ToPeriod.Length == 0;
        var range = singleMonth ? report.FromPeriod : $"{report.FromPeriod} to {report.ToPeriod}";
        Tabular Rows(string title) => new(title, [
            new("period"), new("partner_kind"), new("households", ColumnKind.Number), new("redemptions", ColumnKind.Number),
            new("total_savings_cents", ColumnKind.Cents), new("average_savings_per_household_cents", ColumnKind.Cents),
        ]);
        void Add(Tabular rows, V1.SavingsRow row) => rows.Add(
            row.Period.Length > 0 ? row.Period : range, Names.Of(row.PartnerKind), row.Households, row.Redemptions, row.TotalSavingsCents, row.AverageSavingsPerHouseholdCents);

        var total = Rows($"Tenants' savings in {report.ClubId}, {range}");
        Add(total, report.Total ?? new V1.SavingsRow());
        var byKind = Rows("By partner kind");
        foreach (var row in report.ByPartnerKind)
        {
            Add(byKind, row);
        }

        var byMonth = Rows("By month");
        foreach (var row in report.ByMonth)
        {
            Add(byMonth, row);
        }

        var byMonthAndKind = Rows("By month and partner kind");
        foreach (var row in report.ByMonthAndKind)
        {
            Add(byMonthAndKind, row);
        }

        switch (format)
        {
            case OutputFormat.Json:
                using (var buffer = new MemoryStream())
                {
                    using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                    {
                        json.WriteStartObject();
                        json.WriteString("club_id", report.ClubId);
                        json.WriteString("from_period", report.FromPeriod);
                        json.WriteString("to_period", report.ToPeriod.Length > 0 ? report.ToPeriod : report.FromPeriod);
                        json.WritePropertyName("total");
                        total.WriteRows(json);
                        json.WritePropertyName("by_partner_kind");
                        byKind.WriteRows(json);
                        json.WritePropertyName("by_month");
                        byMonth.WriteRows(json);
                        json.WritePropertyName("by_month_and_kind");
                        byMonthAndKind.WriteRows(json);
                        json.WriteEndObject();
                    }

                    context.Output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
                }

                break;
            case OutputFormat.Csv:
                // One CSV, every breakdown: partner_kind "all" and the range as period mark the totals. Over one month
                // the range is that month, so the by-month rows would repeat the totals' keys (and figures): a
                // spreadsheet summing or pivoting on (period, partner_kind) would count them twice. Each key once.
                var all = Rows("");
                Add(all, report.Total ?? new V1.SavingsRow());
                var breakdowns = singleMonth ? report.ByPartnerKind : report.ByPartnerKind.Concat(report.ByMonth).Concat(report.ByMonthAndKind);
                foreach (var row in breakdowns)
                {
                    Add(all, row);
                }

                all.Write(OutputFormat.Csv, context.Console, context.Output);
                break;
            default:
                context.Console.Write(total.ToTable());
                context.Console.Write(byKind.ToTable());
                if (report.ByMonth.Count > 1)
                {
                    context.Console.Write(byMonth.ToTable());
                }

                WriteChart(context.Console, "Savings by partner kind", report.ByPartnerKind.Select(row => (Names.Of(row.PartnerKind), row.TotalSavingsCents)));
                if (report.ByMonth.Count > 1)
                {
                    WriteChart(context.Console, "Savings by month", report.ByMonth.Select(row => (row.Period, row.TotalSavingsCents)));
                }

                break;
        }
    }

    private static void WriteChart(IAnsiConsole console, string title, IEnumerable<(string Label, long Cents)> bars)
    {
        Color[] palette = [Color.Green, Color.Blue, Color.Yellow, Color.Aqua, Color.Fuchsia, Color.Orange1];
        var chart = new BarChart { Width = 72, Label = Markup.Escape(title + " (EUR)") };
        var items = bars.ToList();
        if (items.Count == 0)
        {
            console.WriteLine($"{title}: no savings in this range.");
            return;
        }

        if (items.Any(item => item.Cents < 0))
        {
            // A bar chart cannot show it (it would draw a negative month as 0): the table above has the figures.
            console.WriteLine($"{title}: not drawn, a value is negative (a cancellation booked after its redemption's month); see the table.");
            return;
        }

        var index = 0;
        foreach (var (label, cents) in items)
        {
            chart.AddItem(Markup.Escape(label), Math.Round(cents / 100d, 2), palette[index++ % palette.Length]);
        }

        console.Write(chart);
    }

    private static Command Discrepancies(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month();
        var run = new Option<string?>("--run") { Description = "A recorded run's id (default: the month's latest)" };
        var kind = new Option<string?>("--kind") { Description = "Only this kind, e.g. missing_at_partner" };
        kind.AcceptOnlyFromAmong([.. Enum.GetValues<V1.DiscrepancyKind>().Where(value => value != V1.DiscrepancyKind.Unspecified).Select(Names.Of)]);
        var format = Tabular.FormatOption();
        var command = new Command("discrepancies", "The discrepancies of the month's latest recorded reconciliation (exit 1 if there are any)")
        {
            club, month, run, kind, format,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var kindName = parse.GetValue(kind);
            var rows = new Tabular($"Discrepancies of {parse.GetRequiredValue(club)}, {parse.GetRequiredValue(month)}", [
                new("kind"), new("partner_id"), new("offer_id"), new("contract_id"), new("partner_event_id"), new("account_id"),
                new("expected_cents", ColumnKind.Cents), new("actual_cents", ColumnKind.Cents), new("expected_count", ColumnKind.Number),
                new("actual_count", ColumnKind.Number), new("detail"),
            ]);
            var page = "";
            // Every page from the first page's run: without --run, "the month's latest" could be another run by the
            // second page if one is recorded meanwhile.
            var runId = parse.GetValue(run) ?? "";
            do
            {
                var request = new V1.ListDiscrepanciesRequest
                {
                    ClubId = parse.GetRequiredValue(club),
                    Period = parse.GetRequiredValue(month),
                    RunId = runId,
                    Kind = kindName is null ? V1.DiscrepancyKind.Unspecified : Enum.GetValues<V1.DiscrepancyKind>().Single(value => Names.Of(value) == kindName),
                    PageSize = PageSize,
                    PageToken = page,
                };
                var response = await session.CallAsync(options => session.Admin.ListDiscrepanciesAsync(request, options), cancellationToken);
                foreach (var found in response.Discrepancies)
                {
                    rows.Add(Names.Of(found.Kind), found.PartnerId, found.OfferId, found.ContractId, found.PartnerEventId, found.AccountId,
                        found.ExpectedCents, found.ActualCents, found.ExpectedCount, found.ActualCount, found.Detail);
                }

                runId = response.RunId;
                page = response.NextPageToken;
            }
            while (page.Length > 0);
            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return rows.Count > 0 ? ExitCodes.DiscrepanciesFound : ExitCodes.Ok;
        });
        return command;
    }
}
