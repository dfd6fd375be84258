using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Hosting;

/// <summary>
/// A hub started with a bad setting stops with one line on standard error naming the setting and its rule, and exit
/// code <see cref="ExitCode"/> (EX_CONFIG in sysexits.h), instead of a stack trace. Configuration errors are: a failed
/// options validation (<see cref="SettingChecks"/>, at start-up), a value the configuration binder cannot convert,
/// and the settings the storage and identity layers check while the host is built, whose messages start with the
/// setting's name; and an endpoint Kestrel cannot set up (a port in use, an address not of this machine, a URL it
/// cannot read, https without a certificate).
/// </summary>
internal static partial class ConfigurationErrors
{
    /// <summary>The exit code of a hub refusing its configuration.</summary>
    public const int ExitCode = 78;

    private static int _installed;

    /// <summary>
    /// Installs the handler, once per process. An unhandled exception that is a configuration error is reported and
    /// ends the process; any other keeps the runtime's report (a bug deserves its stack trace).
    /// </summary>
    public static void ExitOnConfigurationError()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.UnhandledException += (_, arguments) =>
        {
            if (arguments.ExceptionObject is not Exception exception)
            {
                return;
            }

            if (Describe(exception) is { } line)
            {
                Console.Error.WriteLine(line);
                Console.Error.Flush();
                Environment.Exit(ExitCode);
            }

            // The database turning the hub down while it starts is no bug either (DatabaseStartupErrors).
            if (DatabaseStartupErrors.Describe(exception) is { } database)
            {
                Console.Error.WriteLine(database.Line);
                Console.Error.Flush();
                Environment.Exit(database.ExitCode);
            }
        };
    }

    /// <summary>The one line an operator reads for a configuration error, or null when <paramref name="exception"/> is not one.</summary>
    public static string? Describe(Exception exception)
    {
        // Start-up validation throws one AggregateException for all the sections that failed: one line for all of them,
        // as long as every one is a configuration error (a bug among them keeps the runtime's report).
        // A setting two sections check (Fees:PaymentTermDays) is named once.
        var causes = exception is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [exception];
        var failures = causes.Select(Failures).ToList();
        return failures.Count > 0 && failures.All(failure => failure is not null)
            ? Line(string.Join("; ", failures.SelectMany(failure => failure!).Distinct(StringComparer.Ordinal)))
            : null;
    }

    private static IEnumerable<string>? Failures(Exception exception) => exception switch
    {
        OptionsValidationException validation => validation.Failures,
        InvalidOperationException binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [binding.Message],
        InvalidOperationException named when NamesASetting().IsMatch(named.Message) => [named.Message],
        // Kestrel's "Failed to bind to address http://127.0.0.1:5080: address already in use.": a configured
        // address this machine cannot give the hub, the first thing a newcomer with a second hub running meets.
        IOException bind when bind.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal) =>
            [bind.Message.TrimEnd('.') + ": stop what holds it (another hub?), or set " + EndpointSettings],
        // Kestrel's "Invalid url: 'notaurl'", read from the configured endpoints.
        FormatException url when url.Message.StartsWith("Invalid url", StringComparison.Ordinal) =>
            [$"{EndpointSettings} must be absolute URLs such as http://127.0.0.1:5080 ({url.Message.TrimEnd('.')})"],
        // An address that is not one of this machine's: the socket error names no address, the settings do.
        SocketException { SocketErrorCode: SocketError.AddressNotAvailable } address =>
            [$"{EndpointSettings} must name an address of this machine ({address.Message.TrimEnd('.')})"],
        InvalidOperationException https when https.Message.StartsWith("Unable to configure HTTPS endpoint", StringComparison.Ordinal) =>
            [$"{EndpointSettings}: an https:// endpoint needs a certificate (Kestrel:Endpoints:{{Grpc,Http}}:Certificate:Path), or use http:// behind a TLS proxy ({FirstSentence(https.Message)})"],
        _ => null,
    };

    private const string EndpointSettings = "Kestrel:Endpoints:Grpc:Url and Kestrel:Endpoints:Http:Url";

    private static string FirstSentence(string message) => message.Split(". ", 2)[0];

    private static string Line(string message) =>
        "hlmhub: invalid configuration: " + message.ReplaceLineEndings(" ") + " (docs/configuration.md lists every setting)";

    // "Storage:Provider must be ...", "ConnectionStrings:HlmHub is required ...": the hub's own configuration messages.
    [GeneratedRegex(@"^[A-Z][A-Za-z]*(:[A-Za-z0-9]+)+ ")]
    private static partial Regex NamesASetting();
}
