namespace HlmHub.Grpc.Client;

/// <summary>Per-call options.</summary>
/// <param name="Headers">Custom request metadata (keys ending in <c>-bin</c> are sent base64-encoded).</param>
/// <param name="Deadline">When the call expires (UTC); sent as <c>grpc-timeout</c> and enforced locally with DEADLINE_EXCEEDED. Null or <see cref="DateTime.MaxValue"/>: none.</param>
/// <param name="CancellationToken">Cancels the call: the stream is reset (RST_STREAM) and the call ends with CANCELLED.</param>
/// <param name="WriteOptions">Options for request messages (e.g. disable compression).</param>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTime? Deadline = null,
    CancellationToken CancellationToken = default,
    WriteOptions? WriteOptions = null);
