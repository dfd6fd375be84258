using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace HlmHub.Grpc.Internal;

/// <summary>
/// Binds a proto service to a C# class: every rpc of the descriptor must have a public instance
/// method of the same name with the exact shape of its call type, or binding (start-up) fails.
/// </summary>
internal static class ServiceBinder
{
    public static List<ServerCallHandler> Bind(Type serviceType, ServiceDescriptor service, ServerRuntime runtime)
    {
        var errors = new List<string>();
        var handlers = new List<ServerCallHandler>();
        foreach (var method in service.Methods)
        {
            var candidates = serviceType.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => m.Name == method.Name)
                .ToArray();
            var expected = DescribeExpectedSignature(method);
            if (candidates.Length == 0)
            {
                errors.Add($"rpc {method.Name} has no implementation: add `{expected}` to {serviceType.Name}.");
                continue;
            }
            if (candidates.Length > 1)
            {
                errors.Add($"rpc {method.Name} has {candidates.Length} overloads in {serviceType.Name}; keep exactly one: `{expected}`.");
                continue;
            }
            var implementation = candidates[0];
            if (!HasExpectedSignature(implementation, method))
            {
                errors.Add($"rpc {method.Name} is implemented with the wrong signature in {serviceType.Name}: expected `{expected}`.");
                continue;
            }
            var definition = new GrpcMethodDefinition(method, serviceType, implementation);
            foreach (var validator in runtime.Validators)
            {
                try
                {
                    validator.Validate(definition);
                }
                catch (InvalidOperationException exception)
                {
                    errors.Add($"rpc {method.Name}: {exception.Message}");
                }
            }
            handlers.Add(CreateHandler(definition, runtime));
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"Cannot serve {service.FullName} with {serviceType.FullName}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
        }
        return handlers;
    }

    private static (Type Request, Type Response) MessageTypes(MethodDescriptor method) =>
        (method.InputType.ClrType ?? throw new InvalidOperationException($"{method.InputType.FullName} has no generated C# type."),
         method.OutputType.ClrType ?? throw new InvalidOperationException($"{method.OutputType.FullName} has no generated C# type."));

    private static Type[] ExpectedParameters(MethodDescriptor method)
    {
        var (request, response) = MessageTypes(method);
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => [request, typeof(ServerCallContext)],
            (true, false) => [typeof(IAsyncStreamReader<>).MakeGenericType(request), typeof(ServerCallContext)],
            (false, true) => [request, typeof(IServerStreamWriter<>).MakeGenericType(response), typeof(ServerCallContext)],
            (true, true) => [typeof(IAsyncStreamReader<>).MakeGenericType(request), typeof(IServerStreamWriter<>).MakeGenericType(response), typeof(ServerCallContext)],
        };
    }

    private static Type ExpectedReturn(MethodDescriptor method) =>
        method.IsServerStreaming ? typeof(Task) : typeof(Task<>).MakeGenericType(MessageTypes(method).Response);

    private static bool HasExpectedSignature(MethodInfo implementation, MethodDescriptor method) =>
        implementation.ReturnType == ExpectedReturn(method)
        && implementation.GetParameters().Select(p => p.ParameterType).SequenceEqual(ExpectedParameters(method));

    private static string DescribeExpectedSignature(MethodDescriptor method)
    {
        var (request, response) = MessageTypes(method);
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => $"Task<{response.Name}> {method.Name}({request.Name} request, ServerCallContext context)",
            (true, false) => $"Task<{response.Name}> {method.Name}(IAsyncStreamReader<{request.Name}> requestStream, ServerCallContext context)",
            (false, true) => $"Task {method.Name}({request.Name} request, IServerStreamWriter<{response.Name}> responseStream, ServerCallContext context)",
            (true, true) => $"Task {method.Name}(IAsyncStreamReader<{request.Name}> requestStream, IServerStreamWriter<{response.Name}> responseStream, ServerCallContext context)",
        };
    }

    private static ServerCallHandler CreateHandler(GrpcMethodDefinition definition, ServerRuntime runtime)
    {
        var (request, response) = MessageTypes(definition.Descriptor);
        var factory = typeof(ServiceBinder).GetMethod(nameof(CreateTypedHandler), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(definition.ServiceType, request, response);
        return (ServerCallHandler)factory.Invoke(null, [definition, runtime])!;
    }

    // Open-instance delegates: calling the implementation costs a delegate call, not reflection.
    private static ServerCallHandler CreateTypedHandler<TService, TRequest, TResponse>(GrpcMethodDefinition definition, ServerRuntime runtime)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        var implementation = definition.Implementation;
        return definition.Type switch
        {
            MethodType.Unary => new UnaryServerCallHandler<TService, TRequest, TResponse>(definition, runtime,
                implementation.CreateDelegate<Func<TService, TRequest, ServerCallContext, Task<TResponse>>>()),
            MethodType.ClientStreaming => new ClientStreamingServerCallHandler<TService, TRequest, TResponse>(definition, runtime,
                implementation.CreateDelegate<Func<TService, IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>>>()),
            MethodType.ServerStreaming => new ServerStreamingServerCallHandler<TService, TRequest, TResponse>(definition, runtime,
                implementation.CreateDelegate<Func<TService, TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task>>()),
            _ => new DuplexStreamingServerCallHandler<TService, TRequest, TResponse>(definition, runtime,
                implementation.CreateDelegate<Func<TService, IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task>>()),
        };
    }
}
