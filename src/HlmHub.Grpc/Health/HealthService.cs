using HlmHub.Grpc.Health.V1;
using Microsoft.Extensions.Hosting;
using ServingStatus = HlmHub.Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HlmHub.Grpc.Health;

/// <summary>The standard health service over <see cref="HealthStatusRegistry"/>.</summary>
internal sealed class HealthService(HealthStatusRegistry registry, IHostApplicationLifetime lifetime)
{
    /// <summary>Bound on the statuses listed by one List call, so the reply stays small.</summary>
    internal const int MaxListedServices = 100;

    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        var status = registry.GetStatus(request.Service)
            ?? throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");
        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    public Task<HealthListResponse> List(HealthListRequest request, ServerCallContext context)
    {
        var snapshot = registry.Snapshot();
        if (snapshot.Count > MaxListedServices)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"More than {MaxListedServices} services: use Check for each.");
        }
        var response = new HealthListResponse();
        foreach (var (service, status) in snapshot)
        {
            response.Statuses.Add(service, new HealthCheckResponse { Status = status });
        }
        return Task.FromResult(response);
    }

    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        // The stream ends when the client leaves or the host stops, so a watcher never holds up a graceful shutdown.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        ServingStatus? last = null;
        while (!stop.IsCancellationRequested)
        {
            var changed = registry.NextChangeAsync();
            var status = registry.GetStatus(request.Service) ?? ServingStatus.ServiceUnknown;
            if (status != last)
            {
                await responseStream.WriteAsync(new HealthCheckResponse { Status = status }, stop.Token);
                last = status;
            }
            try
            {
                await changed.WaitAsync(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
        }
        if (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested && last != ServingStatus.NotServing)
        {
            await responseStream.WriteAsync(new HealthCheckResponse { Status = ServingStatus.NotServing }, context.CancellationToken);
        }
    }
}
