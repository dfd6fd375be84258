using HlmHub.Identity;

namespace HlmHub.Server.Features.Demo;

/// <summary>
/// The <c>--seed-demo</c> switch. It becomes the configuration setting <c>Demo:SeedOnStart=true</c> before the
/// host reads its arguments: the command-line configuration provider would otherwise take the argument that
/// follows a bare switch as its value (<c>--seed-demo --urls ...</c> would lose <c>--urls</c>).
/// </summary>
internal static class DemoCommandLine
{
    public const string SeedDemoSwitch = "--seed-demo";

    public const string SeedOnStartKey = "Demo:SeedOnStart";

    public static string[] Translate(string[] args) =>
        [.. args.Select(argument => argument == SeedDemoSwitch ? $"--{SeedOnStartKey}=true" : argument)];
}

/// <summary>
/// Seeds the demo once the hub has started (migrations applied, bootstrap administrator created, address known
/// for the token endpoint written next to the credentials); the hub then keeps serving. A failed seed stops
/// start-up: a demo that silently lacks its data would mislead more than an error.
/// </summary>
internal sealed class DemoSeedOnStartService(DemoSeeder seeder, IEmbeddedIssuerAddress issuer) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => seeder.SeedAsync(issuer.TryGetTokenEndpoint(out var tokenEndpoint) ? tokenEndpoint : null, cancellationToken);

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
