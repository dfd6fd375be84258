using System.Text.RegularExpressions;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// A hub node of the scheduling tests: a <see cref="HubProcess"/> whose Quartz instance id is its name (so the same
/// name again is the same node restarted), logging the scheduler's job lines one a line so that <see cref="Runs"/>
/// can count them. <see cref="KillAsync"/> is SIGKILL: no shutdown hook runs, as in a crash. Disposing kills it.
/// </summary>
internal sealed partial class HubNode : IAsyncDisposable
{
    private readonly HubProcess _hub;

    private HubNode(string name, HubProcess hub)
    {
        Name = name;
        _hub = hub;
    }

    /// <summary>The node's Quartz instance id (Scheduling:InstanceId).</summary>
    public string Name { get; }

    public int HttpPort => _hub.HttpPort;

    public string Output => _hub.Output;

    /// <summary>Starts a hub node named <paramref name="name"/> (its Quartz instance id); it serves once <see cref="WaitStartedAsync"/> returns.</summary>
    public static HubNode Start(string name, IReadOnlyDictionary<string, string?> settings) =>
        new(name, HubProcess.Start(new Dictionary<string, string?>(settings)
        {
            // The hub's own lines (the job lines among them) and the host's "Application started", one a line.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:HlmHub"] = "Information",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
            ["Scheduling:InstanceId"] = name,
        }));

    /// <summary>Waits until the host says it has started (hosted services have run; the scheduler starts right after).</summary>
    public Task WaitStartedAsync() => _hub.WaitStartedAsync();

    /// <summary>Waits until the output satisfies <paramref name="condition"/>.</summary>
    public Task WaitForAsync(Func<string, bool> condition, string what, TimeSpan? within = null) =>
        _hub.WaitForAsync(condition, $"for {Name} {what}", within);

    /// <summary>How many times <paramref name="job"/> started on this node, how many of those were recoveries, and how many finished.</summary>
    public (int Started, int Recovering, int Finished) Runs(string job) =>
        (StartedLine().Matches(Output).Count(match => match.Groups["job"].Value == job),
         StartedLine().Matches(Output).Count(match => match.Groups["job"].Value == job && match.Groups["recovering"].Value == "True"),
         FinishedLine().Matches(Output).Count(match => match.Groups["job"].Value == job));

    /// <summary>SIGKILL: the process dies at once, mid-job, without any shutdown.</summary>
    public Task KillAsync() => _hub.KillAsync();

    public ValueTask DisposeAsync() => _hub.DisposeAsync();

    [GeneratedRegex(@"Scheduled job (?<job>[a-z-]+) started on node \S+ \(recovering: (?<recovering>True|False)\)")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"Scheduled job (?<job>[a-z-]+) finished on node")]
    private static partial Regex FinishedLine();
}
