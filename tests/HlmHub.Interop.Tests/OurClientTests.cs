using Grpc.Testing;
using HlmHub.Grpc;
using HlmHub.Grpc.Client;
using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>Our client (HlmHub.Grpc.Client) runs every interop case against our own server.</summary>
public sealed class OurClientAgainstOurServerTests(InteropServerFixture fixture) : IClassFixture<InteropServerFixture>
{
    public static TheoryData<string> Cases() => InteropCases.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public Task OurClient_AgainstOurServer_PassesCase(string testCase) => OurClientCases.RunAsync(testCase, fixture.Server.Address);
}

/// <summary>Our client runs every interop case against the @grpc/grpc-js interop server.</summary>
public sealed class OurClientAgainstGrpcJsServerTests(GrpcJsServerFixture fixture) : IClassFixture<GrpcJsServerFixture>
{
    public static TheoryData<string> Cases() => InteropCases.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OurClient_AgainstGrpcJsServer_PassesCase(string testCase)
    {
        try
        {
            await OurClientCases.RunAsync(testCase, fixture.Address);
        }
        catch (Exception exception)
        {
            // The peer's side of the story: grpc-js logs nothing by default, but a crash shows here.
            throw new Xunit.Sdk.XunitException($"{exception}{Environment.NewLine}--- grpc-js server output ---{Environment.NewLine}{fixture.Output}");
        }
    }

    [Fact]
    public async Task OurCompressingClient_EmptyMessage_IsAcceptedByGrpcJs()
    {
        // An empty message is still a gzip stream when compressed (header, empty deflate block,
        // trailer): a zero-byte "compressed" payload is corrupt to every other implementation.
        using var channel = GrpcChannel.ForAddress(fixture.Address, new GrpcChannelOptions { RequestCompressionAlgorithm = "gzip" });
        var method = new Method<Empty, Empty>(MethodType.Unary, "grpc.testing.TestService", "EmptyCall");
        var options = new CallOptions(Deadline: TimeProvider.System.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(15));

        var response = await channel.UnaryCall(method, new Empty(), options);

        Assert.NotNull(response);
    }
}
