using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace HlmHub.Bench;

/// <summary>
/// A sampling allocation profiler built on the runtime's own events, since dotnet-trace and
/// dotnet-counters cannot be installed here: the GC raises GCAllocationTick about every 100 KB
/// allocated, naming the type of the object that crossed the threshold, so the bytes attributed
/// to each type are proportional to what that type really allocates. Off unless asked for: the
/// verbose GC events cost time. It also counts the methods the JIT compiles (MethodLoadVerbose),
/// to tell whether tiered compilation is still at work during a measurement.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const EventKeywords JitKeyword = (EventKeywords)0x10;
    private const int AllocationTickEventId = 10;
    private const int MethodLoadVerboseEventId = 143;

    /// <summary>How many types the report lists.</summary>
    private const int ReportedTypes = 25;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    // Methods compiled since the last reset, to see whether the JIT is still busy under load.
    private readonly ConcurrentDictionary<string, int> _jittedMethods = new(StringComparer.Ordinal);
    private volatile bool _enabled;

    public void Start() => _enabled = true;

    public void Reset()
    {
        _bytesByType.Clear();
        _jittedMethods.Clear();
    }

    public string Report()
    {
        var total = _bytesByType.Values.Sum();
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"sampled_bytes={total}\n");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(entry => entry.Value).Take(ReportedTypes))
        {
            report.Append(CultureInfo.InvariantCulture, $"{100.0 * bytes / Math.Max(total, 1),6:F1}%  {type}\n");
        }
        report.Append(CultureInfo.InvariantCulture, $"jitted_methods={_jittedMethods.Values.Sum()}\n");
        foreach (var (method, count) in _jittedMethods.OrderByDescending(entry => entry.Value).Take(ReportedTypes))
        {
            report.Append(CultureInfo.InvariantCulture, $"{count,6}  {method}\n");
        }
        return report.ToString();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword | JitKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_enabled || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }
        if (eventData.EventId == MethodLoadVerboseEventId)
        {
            var name = $"{PayloadText(eventData, "MethodNamespace")}::{PayloadText(eventData, "MethodName")}";
            _jittedMethods.AddOrUpdate(name, 1, (_, count) => count + 1);
            return;
        }
        if (eventData.EventId != AllocationTickEventId)
        {
            return;
        }
        var type = "?";
        long amount = 0;
        for (var index = 0; index < eventData.PayloadNames.Count; index++)
        {
            switch (eventData.PayloadNames[index])
            {
                case "TypeName":
                    type = eventData.Payload[index] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    amount = Convert.ToInt64(eventData.Payload[index], CultureInfo.InvariantCulture);
                    break;
            }
        }
        _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    private static string PayloadText(EventWrittenEventArgs eventData, string name)
    {
        var index = eventData.PayloadNames!.IndexOf(name);
        return index >= 0 ? eventData.Payload![index]?.ToString() ?? "?" : "?";
    }
}
