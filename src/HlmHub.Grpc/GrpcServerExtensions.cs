using ProtoServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using HlmHub.Grpc.Health;
using HlmHub.Grpc.Internal;
using HlmHub.Grpc.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc;

/// <summary>Registers and maps gRPC services on ASP.NET Core.</summary>
public static class GrpcServerExtensions
{
    /// <summary>Adds the gRPC server transport (options, health registry, reflection).</summary>
    public static IServiceCollection AddHlmGrpc(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServerRuntime>();
        services.TryAddSingleton<HealthStatusRegistry>();
        services.TryAddSingleton<ReflectionResolver>();
        // Unknown methods are answered by a terminal middleware rather than a catch-all route: a route
        // with parameters would make routing capture values on every call, even the known ones.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, UnimplementedCallFilter>());
        return services;
    }

    /// <summary>
    /// Binds every rpc of <paramref name="service"/> to the public method of <typeparamref name="TService"/>
    /// with the same name. Throws <see cref="InvalidOperationException"/> (failing start-up) when an rpc
    /// has no implementation, an implementation has the wrong types, or a method validator refuses it.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService<TService>(this IEndpointRouteBuilder endpoints, ProtoServiceDescriptor service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(service);
        var runtime = endpoints.ServiceProvider.GetService<ServerRuntime>()
            ?? throw new InvalidOperationException("Call services.AddHlmGrpc() before mapping gRPC services.");
        if (!runtime.Services.TryAdd(service.FullName, service))
        {
            throw new InvalidOperationException($"Service {service.FullName} is mapped twice.");
        }
        var handlers = ServiceBinder.Bind(typeof(TService), service, runtime);
        var builders = new List<IEndpointConventionBuilder>();
        foreach (var handler in handlers)
        {
            runtime.Methods[handler.Method.Path] = handler.Method;
            var builder = endpoints.Map(RoutePatternFactory.Parse(handler.Method.Path), handler.HandleAsync)
                .WithMetadata(new HttpMethodMetadata(["POST"]), handler.Method)
                .WithDisplayName("gRPC " + handler.Method.Path);
            builders.Add(builder);
            GrpcServerLog.MethodMapped(runtime.Logger, handler.Method.Path, handler.Method.Type, typeof(TService).Name, handler.Method.Implementation.Name);
        }
        endpoints.ServiceProvider.GetRequiredService<HealthStatusRegistry>().SetStatus(service.FullName, Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        return new CompositeConventionBuilder(builders);
    }

    /// <summary>Serves <c>grpc.health.v1.Health</c>; statuses are set through <see cref="HealthStatusRegistry"/>.</summary>
    public static IEndpointConventionBuilder MapGrpcHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<HealthService>(Health.V1.HealthReflection.Descriptor.Services[0]);

    /// <summary>Serves server reflection, <c>grpc.reflection.v1</c> and <c>grpc.reflection.v1alpha</c>, over every mapped service.</summary>
    public static IEndpointConventionBuilder MapGrpcReflection(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGrpcService<ReflectionServiceV1>(Reflection.V1.ReflectionReflection.Descriptor.Services[0]);
        var v1Alpha = endpoints.MapGrpcService<ReflectionServiceV1Alpha>(Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0]);
        return new CompositeConventionBuilder([v1, v1Alpha]);
    }

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
