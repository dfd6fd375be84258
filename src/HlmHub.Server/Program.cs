using HlmHub.Identity;
using HlmHub.Server.Features;
using HlmHub.Server.Hosting;
using HlmHub.Storage;

// `--seed-demo` (issue 4): seed the demo data once the hub has started, then keep serving (Features/Demo).
args = HlmHub.Server.Features.Demo.DemoCommandLine.Translate(args);
// `--migrate` applies the schema migrations and exits; `--migrations-script` prints the idempotent script for the
// configured provider and exits (Hosting/MigrateCommand.cs).
args = MigrateCommand.Extract(args, out var schemaCommand);

var builder = WebApplication.CreateBuilder(args);
if (schemaCommand == SchemaCommand.PrintScript)
{
    // The script goes to standard output, to be redirected into a file: every log line goes to standard error.
    builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
}

// Kestrel endpoints, limits, gRPC, reflection, health, anonymous-call bound (Hosting/HubHosting.cs).
builder.AddHubHosting();
builder.Services.AddHlmHubStorage(builder.Configuration);
// Registered before identity: hosted services start in order, and the identity bootstrap needs the schema.
builder.Services.AddHostedService<DatabaseMigrationService>();
builder.Services.AddHlmHubIdentity(builder.Configuration);
builder.Services.AddHubFeatures(builder.Configuration);
if (schemaCommand == SchemaCommand.Migrate)
{
    // Quartz's tables too, even with Storage:ApplyMigrationsAtStartup=false (the DBA's mode, whose configuration the
    // command runs with): docs/scheduling.md.
    HlmHub.Server.Features.Scheduling.HubScheduling.ProvisionSchemaWhenCreated(builder.Services);
}

var app = builder.Build();
if (schemaCommand != SchemaCommand.None)
{
    await MigrateCommand.RunAsync(schemaCommand, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
    if (schemaCommand == SchemaCommand.Migrate && Environment.ExitCode == 0)
    {
        // Quartz's own tables too (docs/scheduling.md), so the migrated database serves in the DBA's mode.
        await HlmHub.Server.Features.Scheduling.HubScheduling.ProvisionSchemaAsync(app.Services, app.Lifetime.ApplicationStopping);
    }

    return;
}

// With Storage:ApplyMigrationsAtStartup=false the DBA owns the schema: never serve on a database that is behind.
if (await DatabaseMigrationService.CheckSchemaAsync(app.Services, app.Lifetime.ApplicationStopping) is { } schemaError)
{
    await Console.Error.WriteLineAsync(schemaError);
    Environment.ExitCode = 1;
    return;
}

app.UseHubPlatform();
app.MapHubPlatform(endpoints => endpoints.MapHubFeatures());
app.Run();
