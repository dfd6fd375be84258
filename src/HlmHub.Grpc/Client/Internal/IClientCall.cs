namespace HlmHub.Grpc.Client.Internal;

/// <summary>The parts of a call the public call objects expose, independent of message types.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}
