using HlmHub.Identity;
using HlmHub.Server.Features;
using HlmHub.Server.Hosting;
using HlmHub.Storage;

// `--seed-demo` (issue 4): seed the demo data once the hub has started, then keep serving (Features/Demo).
args = HlmHub.Server.Features.Demo.DemoCommandLine.Translate(args);
// `--migrate` (issue 4): apply the schema migrations and exit (Hosting/MigrateCommand.cs).
args = MigrateCommand.Extract(args, out var migrateOnly);

var builder = WebApplication.CreateBuilder(args);
// Kestrel endpoints, limits, gRPC, reflection, health, anonymous-call bound (Hosting/HubHosting.cs).
builder.AddHubHosting();
builder.Services.AddHlmHubStorage(builder.Configuration);
// Registered before identity: hosted services start in order, and the identity bootstrap needs the schema.
builder.Services.AddHostedService<DatabaseMigrationService>();
builder.Services.AddHlmHubIdentity(builder.Configuration);
builder.Services.AddHubFeatures(builder.Configuration);

var app = builder.Build();
if (migrateOnly)
{
    await MigrateCommand.RunAsync(app.Services, app.Lifetime.ApplicationStopping);
    return;
}

app.UseHubPlatform();
app.MapHubPlatform(endpoints => endpoints.MapHubFeatures());
app.Run();
