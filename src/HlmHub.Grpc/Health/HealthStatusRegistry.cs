using HlmHub.Grpc.Health.V1;
using ServingStatus = HlmHub.Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HlmHub.Grpc.Health;

/// <summary>
/// The serving status of the server ("" key) and of each mapped service, as reported by
/// <c>grpc.health.v1.Health</c>. Mapping a service marks it SERVING; the host may change it.
/// </summary>
public sealed class HealthStatusRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal) { [string.Empty] = ServingStatus.Serving };
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sets the status of <paramref name="service"/> ("" for the whole server) and wakes watchers.</summary>
    public void SetStatus(string service, HealthCheckResponse.Types.ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (_statuses.TryGetValue(service, out var current) && current == status)
            {
                return;
            }
            _statuses[service] = status;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Marks every service NOT_SERVING (used when the host starts shutting down).</summary>
    public void SetAllNotServing()
    {
        foreach (var service in Snapshot().Keys)
        {
            SetStatus(service, ServingStatus.NotServing);
        }
    }

    /// <summary>The status of <paramref name="service"/>, or null when it is unknown.</summary>
    public HealthCheckResponse.Types.ServingStatus? GetStatus(string service)
    {
        lock (_lock)
        {
            return _statuses.TryGetValue(service, out var status) ? status : null;
        }
    }

    /// <summary>Every known status.</summary>
    public IReadOnlyDictionary<string, HealthCheckResponse.Types.ServingStatus> Snapshot()
    {
        lock (_lock)
        {
            return new Dictionary<string, ServingStatus>(_statuses, StringComparer.Ordinal);
        }
    }

    /// <summary>Completes at the next status change.</summary>
    internal Task NextChangeAsync()
    {
        lock (_lock)
        {
            return _changed.Task;
        }
    }
}
