using System.CommandLine;
using HlmHub.Cli;
using HlmHub.Cli.Commands;
using HlmHub.Cli.Connection;
using Spectre.Console;

// `hlmhub`: the hub's administration CLI (docs/cli.md). Exit codes: HlmHub.Cli.ExitCodes.
var console = AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    // Piped or captured: no terminal width to respect, and a narrow table would cut ids and amounts in pieces.
    console.Profile.Width = RedirectedWidth;
}

var context = new CliContext(new GlobalOptions(), console, Console.Out, Console.Error);
var root = CliCommands.Create(context);
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // One line naming the problems, and where the help is: never the whole help text on an error.
    var command = string.Join(' ', parse.CommandResult.Command.Ancestors().Reverse().Select(ancestor => ancestor.Name).Append(parse.CommandResult.Command.Name)).Trim();
    var problems = string.Join(" ", parse.Errors.Select(error => error.Message.TrimEnd('.') + ".").Distinct());
    return context.Fail(new CliException(ExitCodes.Usage, $"{problems} See '{command} --help'."));
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception exception) when (exception is not OperationCanceledException)
{
    // A bug or an environment problem nothing above expected: still one line, never a stack trace.
    return context.Fail(new CliException(ExitCodes.Refused, $"unexpected error ({exception.GetType().Name}): {exception.Message}"));
}

internal static partial class Program
{
    /// <summary>Columns of a table written to a pipe or a file.</summary>
    private const int RedirectedWidth = 200;
}
