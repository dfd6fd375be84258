using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace HlmHub.Grpc.Client;

/// <summary>A callable rpc: its shape, names and message parsers.</summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    /// <summary>Describes a method by hand (e.g. for a service without a descriptor at hand).</summary>
    public Method(MethodType type, string serviceName, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = "/" + serviceName + "/" + name;
        RequestParser = new MessageParser<TRequest>(static () => new TRequest());
        ResponseParser = new MessageParser<TResponse>(static () => new TResponse());
    }

    /// <summary>Describes the method from its proto descriptor, checking the message types match it.</summary>
    /// <exception cref="ArgumentException">The descriptor's input or output type is not <typeparamref name="TRequest"/> / <typeparamref name="TResponse"/>.</exception>
    public Method(MethodDescriptor descriptor)
        : this(TypeOf(descriptor), ServiceNameOf(descriptor), descriptor.Name)
    {
        CheckType(descriptor, descriptor.InputType, typeof(TRequest), "request");
        CheckType(descriptor, descriptor.OutputType, typeof(TResponse), "response");
    }

    /// <summary>The call shape.</summary>
    public MethodType Type { get; }

    /// <summary>The full service name, e.g. <c>hlmhub.v1.AdminService</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The method name, e.g. <c>CreateClub</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 path: <c>/{service}/{method}</c>.</summary>
    public string FullName { get; }

    /// <summary>Parses request messages.</summary>
    public MessageParser<TRequest> RequestParser { get; }

    /// <summary>Parses response messages.</summary>
    public MessageParser<TResponse> ResponseParser { get; }

    /// <inheritdoc />
    public override string ToString() => FullName;

    private static MethodType TypeOf(MethodDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
    }

    private static string ServiceNameOf(MethodDescriptor descriptor) => descriptor.Service.FullName;

    private static void CheckType(MethodDescriptor method, MessageDescriptor message, Type expected, string role)
    {
        if (message.ClrType != expected)
        {
            throw new ArgumentException(
                $"Method '{method.FullName}' takes {message.FullName} ({message.ClrType?.FullName ?? "no generated type"}) as {role}, not {expected.FullName}.",
                nameof(method));
        }
    }
}
