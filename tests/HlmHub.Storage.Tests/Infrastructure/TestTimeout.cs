namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>Every awaited database call in these tests is bounded, so a hang fails the test instead of the run.</summary>
public static class TestTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    public static CancellationToken Token() => new CancellationTokenSource(Default).Token;
}
