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
/// verbose GC events cost time.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;

    /// <summary>How many types the report lists.</summary>
    private const int ReportedTypes = 25;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _enabled;

    public void Start() => _enabled = true;

    public void Reset() => _bytesByType.Clear();

    public string Report()
    {
        var total = _bytesByType.Values.Sum();
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"sampled_bytes={total}\n");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(entry => entry.Value).Take(ReportedTypes))
        {
            report.Append(CultureInfo.InvariantCulture, $"{100.0 * bytes / Math.Max(total, 1),6:F1}%  {type}\n");
        }
        return report.ToString();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_enabled || eventData.EventId != AllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
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
}
