using HlmHub.Grpc;
using HlmHub.Identity;
using HlmHub.Server.Features;
using HlmHub.Server.Hosting;
using HlmHub.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;

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
var hostOptions = builder.Configuration.GetSection(HubHostOptions.SectionName).Get<HubHostOptions>() ?? new HubHostOptions();

// gRPC needs HTTP/2. Kestrel cannot offer HTTP/1.1 and HTTP/2 on one cleartext port (no ALPN without TLS),
// so cleartext endpoints speak HTTP/2 with prior knowledge; TLS endpoints negotiate h2 by ALPN.
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
    kestrel.Limits.Http2.MaxStreamsPerConnection = hostOptions.MaxStreamsPerConnection;
    kestrel.Limits.MaxRequestHeadersTotalSize = hostOptions.MaxRequestHeadersTotalSizeBytes;
});
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = hostOptions.ShutdownDrainTimeout);

builder.Services.AddHlmGrpc(options => builder.Configuration.GetSection("Grpc:Server").Bind(options));
builder.Services.AddHlmHubStorage(builder.Configuration);
// Registered before identity: hosted services start in order, and the identity bootstrap needs the schema.
builder.Services.AddHostedService<DatabaseMigrationService>();
builder.Services.AddHlmHubIdentity(builder.Configuration);
builder.Services.AddHubFeatures(builder.Configuration);

var app = builder.Build();
if (schemaCommand != SchemaCommand.None)
{
    await MigrateCommand.RunAsync(schemaCommand, app.Services, Console.Out, app.Lifetime.ApplicationStopping);
    return;
}
// With Storage:ApplyMigrationsAtStartup=false the DBA owns the schema: never serve on a database that is behind.
if (await DatabaseMigrationService.CheckSchemaAsync(app.Services, app.Lifetime.ApplicationStopping) is { } schemaError)
{
    await Console.Error.WriteLineAsync(schemaError);
    Environment.ExitCode = 1;
    return;
}

app.MapHlmHubIdentityEndpoints();
app.MapGrpcHealth();
app.MapGrpcReflection();
app.MapHubFeatures();
app.Run();
