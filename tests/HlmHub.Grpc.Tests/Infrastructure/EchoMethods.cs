using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Echo;

namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>The client side of the test contract, built from its descriptor.</summary>
internal static class EchoMethods
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = EchoReflection.Descriptor.Services[0];

    public static readonly Method<EchoRequest, EchoReply> Unary = new(Service.FindMethodByName("Unary"));
    public static readonly Method<EchoRequest, EchoReply> ClientStream = new(Service.FindMethodByName("ClientStream"));
    public static readonly Method<EchoRequest, EchoReply> ServerStream = new(Service.FindMethodByName("ServerStream"));
    public static readonly Method<EchoRequest, EchoReply> Duplex = new(Service.FindMethodByName("Duplex"));
}
