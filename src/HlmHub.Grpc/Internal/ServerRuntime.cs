using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Grpc.Internal;

/// <summary>What every call handler shares: options, clock, logger, interceptors, service activation.</summary>
internal sealed class ServerRuntime
{
    private readonly ConcurrentDictionary<Type, ObjectFactory> _factories = new();

    public ServerRuntime(
        IOptions<GrpcServerOptions> options,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        IEnumerable<IServerCallInterceptor> interceptors,
        IEnumerable<IGrpcMethodValidator> validators)
    {
        Options = options.Value;
        TimeProvider = timeProvider;
        Logger = loggerFactory.CreateLogger("HlmHub.Grpc.Server");
        Interceptors = interceptors.ToArray();
        Validators = validators.ToArray();
    }

    public GrpcServerOptions Options { get; }
    public TimeProvider TimeProvider { get; }
    public ILogger Logger { get; }
    public IServerCallInterceptor[] Interceptors { get; }
    public IGrpcMethodValidator[] Validators { get; }

    /// <summary>Mapped methods by path, for the unimplemented fallback and reflection.</summary>
    public ConcurrentDictionary<string, GrpcMethodDefinition> Methods { get; } = new(StringComparer.Ordinal);

    /// <summary>Mapped services with their descriptors, for health and reflection.</summary>
    public ConcurrentDictionary<string, Google.Protobuf.Reflection.ServiceDescriptor> Services { get; } = new(StringComparer.Ordinal);

    /// <summary>A service instance: from DI when registered, otherwise created per call with constructor injection.</summary>
    public object CreateService(Type serviceType, IServiceProvider services)
    {
        var registered = services.GetService(serviceType);
        if (registered is not null)
        {
            return registered;
        }
        var factory = _factories.GetOrAdd(serviceType, static type => ActivatorUtilities.CreateFactory(type, Type.EmptyTypes));
        return factory(services, null);
    }
}
