using System.Text.Json;
using HlmHub.Identity.Issuer;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Creates the first hub administrator and hands its credentials over through a 0600 file. Several hub instances
/// may start together on one database: the look-up and the creation happen under the
/// <see cref="IdentityLeases.BootstrapAdmin"/> lease, so only one of them creates an administrator.
/// </summary>
internal sealed class IdentityBootstrapper(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IClientRegistry registry,
    IdentityLeases leases,
    EmbeddedIssuerUrl issuerUrl,
    IOptions<AuthOptions> authOptions,
    IOptions<StorageOptions> storageOptions,
    ILogger<IdentityBootstrapper> logger) : IIdentityBootstrapper
{
    internal const string FileName = "bootstrap-admin.json";
    internal const string AdminScope = "hlmhub.admin";

    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task<string?> BootstrapAsync(CancellationToken cancellationToken)
    {
        if (!authOptions.Value.EmbeddedIssuer.Enabled)
        {
            return null;
        }
        await _lock.WaitAsync(cancellationToken);
        try
        {
            // Another instance holding the lease is bootstrapping (or has just done it): nothing to do here.
            await using var lease = await leases.TryAcquireAsync(IdentityLeases.BootstrapAdmin, cancellationToken);
            if (lease is null || await HasHubAdministratorAsync(cancellationToken))
            {
                return null;
            }
            var registered = await registry.RegisterAsync(
                new ClientRegistration(ClientKind.Admin, "Bootstrap hub administrator", [AdminScope]), cancellationToken);
            var directory = storageOptions.Value.DataDirectory;
            PrivateDirectory.Create(directory);
            var path = Path.GetFullPath(Path.Combine(directory, FileName));
            var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["client_id"] = registered.ClientId,
                ["client_secret"] = registered.ClientSecret!,
                ["token_endpoint"] = issuerUrl.TokenEndpoint,
            }, new JsonSerializerOptions { WriteIndented = true });
            await WriteOwnerOnlyAsync(path, json, cancellationToken);
            IdentityLog.BootstrapAdminCreated(logger, registered.ClientId, path);
            return path;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<bool> HasHubAdministratorAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // Every admin's properties contain the text "admin"; the binding is then read properly.
        var candidates = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .Where(application => application.Properties != null && application.Properties.Contains(ClientKindAdminText))
            .ToListAsync(cancellationToken);
        return candidates.Where(application => ClientApplications.KindOf(application) == ClientKind.Admin)
            .Select(ClientApplications.Describe)
            .Any(client => client.ClubId is null && client.DisabledAt is null);
    }

    private const string ClientKindAdminText = "admin";

    // The file is created 0600 from the start (never world-readable, not even for a moment); an old file
    // from a previous bootstrap is replaced.
    private static async Task WriteOwnerOnlyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        File.Delete(path);
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var stream = new FileStream(path, streamOptions);
        await stream.WriteAsync(content, cancellationToken);
    }
}

/// <summary>
/// Runs the bootstrap once the server has started (its address is then known for <c>token_endpoint</c>);
/// the host applies migrations before starting.
/// </summary>
internal sealed class IdentityBootstrapHostedService(IIdentityBootstrapper bootstrapper, IOptions<AuthOptions> options) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (options.Value.EmbeddedIssuer.BootstrapAdmin)
        {
            await bootstrapper.BootstrapAsync(cancellationToken);
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
