namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>The cases of grpc's doc/interop-test-descriptions.md that every peer runs.</summary>
internal static class InteropCases
{
    public static readonly IReadOnlyList<string> All =
    [
        "empty_unary",
        "large_unary",
        "client_streaming",
        "server_streaming",
        "ping_pong",
        "empty_stream",
        "custom_metadata",
        "status_code_and_message",
        "special_status_message",
        "unimplemented_method",
        "unimplemented_service",
        "cancel_after_begin",
        "cancel_after_first_response",
        "timeout_on_sleeping_server",
        "client_compressed_unary",
        "server_compressed_unary",
        "client_compressed_streaming",
        "server_compressed_streaming",
    ];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in All)
        {
            data.Add(name);
        }
        return data;
    }
}
