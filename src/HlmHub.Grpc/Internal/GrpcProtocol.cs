namespace HlmHub.Grpc.Internal;

/// <summary>Names and constants of the gRPC over HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string StatusTrailer = "grpc-status";
    public const string MessageTrailer = "grpc-message";
    public const string IdentityEncoding = "identity";
    public const string GzipEncoding = "gzip";

    /// <summary>1 byte compressed flag + 4 bytes big-endian length.</summary>
    public const int MessageHeaderSize = 5;

    /// <summary>Default limit on one message, sent or received (the same default as grpc's).</summary>
    public const int DefaultMaxMessageSizeBytes = 4 * 1024 * 1024;

    /// <summary>
    /// True for <c>application/grpc</c> and <c>application/grpc+proto</c> (with optional parameters);
    /// other subtypes such as <c>+json</c> name a codec we do not speak.
    /// </summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var rest = contentType.AsSpan(ContentType.Length);
        if (rest.IsEmpty || rest[0] == ';')
        {
            return true;
        }
        return rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase)
            && (rest.Length == "+proto".Length || rest["+proto".Length] == ';');
    }
}
