using System.Reflection;
using Google.Protobuf.Reflection;

namespace HlmHub.Grpc;

/// <summary>A method bound at start-up: its proto descriptor and the C# method that implements it.</summary>
public sealed class GrpcMethodDefinition
{
    internal GrpcMethodDefinition(MethodDescriptor descriptor, Type serviceType, MethodInfo implementation)
    {
        Descriptor = descriptor;
        ServiceType = serviceType;
        Implementation = implementation;
        Path = "/" + descriptor.Service.FullName + "/" + descriptor.Name;
        Type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
    }

    /// <summary>The proto method.</summary>
    public MethodDescriptor Descriptor { get; }

    /// <summary>The full service name, e.g. <c>hlmhub.v1.AdminService</c>.</summary>
    public string ServiceName => Descriptor.Service.FullName;

    /// <summary>The method name, e.g. <c>CreateClub</c>.</summary>
    public string Name => Descriptor.Name;

    /// <summary>The HTTP/2 path: <c>/{service}/{method}</c>.</summary>
    public string Path { get; }

    /// <summary>The call shape.</summary>
    public MethodType Type { get; }

    /// <summary>The class implementing the service.</summary>
    public Type ServiceType { get; }

    /// <summary>The C# method implementing the rpc: read its attributes for per-rpc policies.</summary>
    public MethodInfo Implementation { get; }
}
