namespace HlmHub.Cli;

/// <summary>The process exit codes of <c>hlmhub</c>, documented in docs/cli.md; scripts branch on them.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The command worked and found discrepancies (reconcile, report discrepancies).</summary>
    public const int DiscrepanciesFound = 1;

    /// <summary>The command line is wrong, a setting is missing, or the hub refused an argument as invalid.</summary>
    public const int Usage = 2;

    /// <summary>The token endpoint refused the client (wrong id, secret, key or scope), or the hub refused the call (no permission).</summary>
    public const int AuthenticationOrPermission = 3;

    /// <summary>Neither the hub nor its token endpoint could be reached, or it did not answer in time.</summary>
    public const int HubUnreachable = 4;

    /// <summary>The hub refused the request for a reason of its own (unknown id, duplicate, precondition) or failed.</summary>
    public const int Refused = 5;
}

/// <summary>A failure a person can act on: one line for standard error and the exit code that goes with it.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
