using HlmHub.Identity.Authorization;

namespace HlmHub.Identity.Tests;

/// <summary>The grpc-message encoding of the gRPC spec: what a client percent-decodes, nothing more.</summary>
public sealed class GrpcStatusMessageTests
{
    [Theory]
    [InlineData("Invalid access token: the token is not a well-formed JWT.", "Invalid access token: the token is not a well-formed JWT.")]
    [InlineData("at most 100% (Hub:X)", "at most 100%25 (Hub:X)")]
    [InlineData("Refusé\n", "Refus%C3%A9%0A")]
    public void PrintableAsciiStaysAsWritten_AndEverythingElseIsPercentEncodedAsUtf8(string message, string header) =>
        Assert.Equal(header, GrpcStatusMessage.Encode(message));
}
