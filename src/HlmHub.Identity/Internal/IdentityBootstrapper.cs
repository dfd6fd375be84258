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
            var directory = storageOptions.Value.DataDirectory;
            PrivateDirectory.Create(directory);
            var path = Path.GetFullPath(Path.Combine(directory, FileName));
            // The file is made before the administrator: a hub that has a hub administrator never bootstraps again, so
            // an administrator registered and then not written down (a full disk, a directory in the file's place)
            // would leave no one able to administer the hub. If the file cannot be made, nothing is registered and
            // the next start tries again. Written beside the path and renamed over it, an older file goes whole.
            if (Directory.Exists(path))
            {
                throw new IOException($"Cannot write the bootstrap administrator's credentials: {path} is a directory.");
            }

            var temporaryPath = path + ".tmp";
            File.Delete(temporaryPath); // a leftover of an attempt that registered no one: no hub administrator exists
            RegisteredClient registered;
            await using (var stream = CreateOwnerOnly(temporaryPath))
            {
                try
                {
                    registered = await registry.RegisterAsync(
                        new ClientRegistration(ClientKind.Admin, "Bootstrap hub administrator", [AdminScope]), cancellationToken);
                }
                catch
                {
                    await stream.DisposeAsync();
                    File.Delete(temporaryPath);
                    throw;
                }

                await stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
                {
                    ["client_id"] = registered.ClientId,
                    ["client_secret"] = registered.ClientSecret!,
                    ["token_endpoint"] = issuerUrl.TokenEndpoint,
                }, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            try
            {
                File.Move(temporaryPath, path, overwrite: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"The bootstrap administrator {registered.ClientId} was created, but its credentials could not be moved to {path}; they are in {temporaryPath}.", exception);
            }

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

    // Created 0600 from the start: never world-readable, not even for a moment.
    private static FileStream CreateOwnerOnly(string path)
    {
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, streamOptions);
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
