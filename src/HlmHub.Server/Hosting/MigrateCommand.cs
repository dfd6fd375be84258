using HlmHub.Storage;

namespace HlmHub.Server.Hosting;

/// <summary>
/// <c>--migrate</c>: apply the schema migrations to the configured database and exit without serving.
/// Deployments with several hub instances on one PostgreSQL run it once before starting them; a single hub
/// needs nothing, since it migrates at start-up (<see cref="DatabaseMigrationService"/>).
/// </summary>
internal static class MigrateCommand
{
    public const string Switch = "--migrate";

    /// <summary>Removes the switch from the arguments, so the configuration parser never sees it.</summary>
    public static string[] Extract(string[] args, out bool requested)
    {
        requested = args.Contains(Switch, StringComparer.Ordinal);
        return [.. args.Where(argument => argument != Switch)];
    }

    public static Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(cancellationToken);
}
