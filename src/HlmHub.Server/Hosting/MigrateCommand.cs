using HlmHub.Storage;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The schema commands, each run instead of serving:
/// <list type="bullet">
/// <item><c>--migrate</c> applies the pending migrations to the configured database and exits. Deployments with
/// several hub instances run it once before starting them; a single hub needs nothing, since it migrates at
/// start-up (<see cref="DatabaseMigrationService"/>).</item>
/// <item><c>--migrations-script</c> prints the idempotent SQL script of every migration for the configured provider
/// and exits, without connecting: what a DBA reviews and applies when the hub has no DDL rights.</item>
/// </list>
/// </summary>
internal static class MigrateCommand
{
    public const string MigrateSwitch = "--migrate";

    public const string ScriptSwitch = "--migrations-script";

    /// <summary>Removes the switches from the arguments, so the configuration parser never sees them.</summary>
    public static string[] Extract(string[] args, out SchemaCommand command)
    {
        command = args.Contains(ScriptSwitch, StringComparer.Ordinal) ? SchemaCommand.PrintScript
            : args.Contains(MigrateSwitch, StringComparer.Ordinal) ? SchemaCommand.Migrate
            : SchemaCommand.None;
        return [.. args.Where(argument => argument is not MigrateSwitch and not ScriptSwitch)];
    }

    public static async Task RunAsync(SchemaCommand command, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        var migrator = services.GetRequiredService<IDatabaseMigrator>();
        switch (command)
        {
            case SchemaCommand.Migrate:
                await migrator.MigrateAsync(cancellationToken);
                break;
            case SchemaCommand.PrintScript:
                await output.WriteAsync(migrator.GenerateIdempotentScript().AsMemory(), cancellationToken);
                await output.FlushAsync(cancellationToken);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(command), command, "Not a schema command.");
        }
    }
}

/// <summary>What the host was asked to do instead of serving, if anything.</summary>
internal enum SchemaCommand
{
    None,
    Migrate,
    PrintScript,
}
