using System.CommandLine;
using HlmHub.Cli.Output;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary><c>hlmhub ledger balances|entries</c>: a club's double-entry ledger.</summary>
internal static class LedgerCommands
{
    private const int PageSize = 500;

    public static Command Create(CliContext context)
    {
        var ledger = new Command("ledger", "A club's double-entry ledger");
        ledger.Subcommands.Add(Balances(context));
        ledger.Subcommands.Add(Entries(context));
        return ledger;
    }

    private static Command Balances(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month(required: false, description: "Up to and including this month, yyyy-MM (default: everything booked)");
        var format = Tabular.FormatOption();
        var command = new Command("balances", "Debits, credits and balance of each of the club's ledger accounts") { club, month, format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.GetBalancesRequest { ClubId = parse.GetRequiredValue(club), Period = parse.GetValue(month) ?? "" };
            var response = await session.CallAsync(options => session.Admin.GetBalancesAsync(request, options), cancellationToken);
            var rows = new Tabular($"Ledger balances of {response.ClubId}{(response.Period.Length > 0 ? " to the end of " + response.Period : "")}", [
                new("account_id"), new("kind"), new("partner_id"), new("debit_cents", ColumnKind.Cents), new("credit_cents", ColumnKind.Cents),
                new("balance_cents", ColumnKind.Cents),
            ]);
            foreach (var balance in response.Balances)
            {
                rows.Add(balance.AccountId, Names.Of(balance.Kind), balance.PartnerId, balance.DebitCents, balance.CreditCents, balance.BalanceCents);
            }

            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Entries(CliContext context)
    {
        var club = Arguments.Club();
        var month = Arguments.Month(required: false, description: "Only this month, yyyy-MM (default: every month)");
        var account = new Option<string?>("--account") { Description = "Only this account id" };
        var limit = new Option<int>("--limit") { Description = "At most this many entries; 0: all of them", DefaultValueFactory = _ => 1000 };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--limit must be 0 (all) or more");
            }
        });
        var format = Tabular.FormatOption();
        var command = new Command("entries", "The club's ledger entries in booking order") { club, month, account, limit, format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var rows = new Tabular($"Ledger entries of {parse.GetRequiredValue(club)}", [
                new("transaction_id"), new("line", ColumnKind.Number), new("transaction_kind"), new("period"), new("occurred_at"), new("account_id"),
                new("debit_cents", ColumnKind.Cents), new("credit_cents", ColumnKind.Cents), new("description"),
            ]);
            var most = parse.GetValue(limit);
            var page = "";
            var more = false;
            do
            {
                var request = new V1.ListLedgerEntriesRequest
                {
                    ClubId = parse.GetRequiredValue(club),
                    Period = parse.GetValue(month) ?? "",
                    AccountId = parse.GetValue(account) ?? "",
                    PageSize = most == 0 ? PageSize : Math.Min(PageSize, most - rows.Count),
                    PageToken = page,
                };
                var response = await session.CallAsync(options => session.Admin.ListLedgerEntriesAsync(request, options), cancellationToken);
                foreach (var entry in response.Entries)
                {
                    rows.Add(entry.TransactionId, (long)entry.Line, entry.TransactionKind, entry.Period, Names.Of(entry.OccurredAt), entry.AccountId,
                        entry.Debit ? entry.AmountCents : null, entry.Debit ? null : entry.AmountCents, entry.Description);
                }

                page = response.NextPageToken;
                more = page.Length > 0 && most > 0 && rows.Count >= most;
            }
            while (page.Length > 0 && !more);
            rows.Write(parse.GetValue(format), context.Console, context.Output);
            if (more)
            {
                context.Error.WriteLine($"hlmhub: showing the first {rows.Count} entries: pass --limit 0 for all of them");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
