using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>Hand-made gRPC requests and frames, for what our client would never send.</summary>
internal static class RawGrpc
{
    public static byte[] Frame(IMessage message, bool compressedFlag = false) => Frame(message.ToByteArray(), compressedFlag);

    public static byte[] Frame(byte[] payload, bool compressedFlag = false)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = compressedFlag ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public static HttpRequestMessage Request(string path, byte[] body, string contentType = "application/grpc")
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("content-type", contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    public static string? Header(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;
}
