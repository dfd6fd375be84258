using System.CommandLine;
using HlmHub.Cli.Connection;
using Spectre.Console;

namespace HlmHub.Cli.Commands;

/// <summary>
/// What every command shares: the connection flags, the consoles (standard output for results, standard error for
/// the one-line errors), and <see cref="Run"/>, which opens the session and turns failures into exit codes.
/// </summary>
internal sealed class CliContext(GlobalOptions options, IAnsiConsole console, TextWriter output, TextWriter error)
{
    public GlobalOptions Options { get; } = options;

    /// <summary>Spectre.Console on standard output: tables, charts, progress.</summary>
    public IAnsiConsole Console { get; } = console;

    /// <summary>Standard output, for CSV and JSON written byte for byte.</summary>
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Sets <paramref name="command"/>'s action: connect, run <paramref name="body"/>, map failures.</summary>
    public void Run(Command command, Func<ParseResult, HubSession, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var settings = HubSettings.Resolve(parse, Options);
                using var session = await HubSession.OpenAsync(settings, cancellationToken);
                return await body(parse, session, cancellationToken);
            }
            catch (CliException exception)
            {
                return Fail(exception);
            }
        });

    public int Fail(CliException exception)
    {
        // One line, never a stack trace: the message says what to fix.
        Error.WriteLine("hlmhub: " + exception.Message.ReplaceLineEndings(" "));
        return exception.ExitCode;
    }
}
