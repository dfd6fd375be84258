using System.CommandLine;

namespace HlmHub.Cli.Commands;

/// <summary>The command tree of <c>hlmhub</c>.</summary>
internal static class CliCommands
{
    public static RootCommand Create(CliContext context)
    {
        var root = new RootCommand(
            "hlmhub: administer an HlmHub (reconciliation, reports, ledger, payments, months, OAuth clients, demo). " +
            "Exit codes: 0 ok, 1 discrepancies found, 2 usage, 3 authentication or permission, 4 hub unreachable, 5 refused by the hub.");
        foreach (var option in context.Options.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(ReconcileCommand.Create(context));
        root.Subcommands.Add(ReportCommands.Create(context));
        root.Subcommands.Add(LedgerCommands.Create(context));
        root.Subcommands.Add(PaymentsCommands.Create(context));
        root.Subcommands.Add(MonthCommands.Create(context));
        root.Subcommands.Add(ClientsCommands.Create(context));
        root.Subcommands.Add(DemoCommands.Create(context));
        return root;
    }

    /// <summary>The commands above <paramref name="command"/>, nearest first.</summary>
    public static IEnumerable<Command> Ancestors(this Command command)
    {
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            yield return parent;
        }
    }
}
