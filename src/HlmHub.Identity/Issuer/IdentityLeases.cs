using System.Security.Cryptography;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Leases in the database (<see cref="IdentityLease"/>) that serialise changes to shared identity state across
/// hub instances: one instance at a time creates, retires or purges signing keys, and one creates the bootstrap
/// administrator. A lease is a row whose primary key is its name, so the database, not the instances' clocks or
/// memory, decides who holds it.
/// </summary>
internal sealed class IdentityLeases(IDbContextFactory<HlmHubDbContext> dbContextFactory, TimeProvider timeProvider)
{
    /// <summary>The lease held while signing keys are created, retired or purged.</summary>
    public const string SigningKeys = "signing-keys";

    /// <summary>The lease held while the bootstrap administrator is looked for and created.</summary>
    public const string BootstrapAdmin = "bootstrap-admin";

    /// <summary>
    /// How long a lease lasts when its holder dies without releasing it: far longer than the few queries it
    /// guards, short enough that a crashed instance does not stall the others for long.
    /// </summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(30);

    /// <summary>The pause between two attempts of <see cref="AcquireAsync"/>.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Takes the lease, or returns null at once when another holder has it.</summary>
    public async Task<Lease?> TryAcquireAsync(string name, CancellationToken cancellationToken)
    {
        var holder = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = timeProvider.GetUtcNow();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // A lease whose holder died is taken over once it has lapsed.
        await db.IdentityLeases.Where(lease => lease.Name == name && lease.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        db.IdentityLeases.Add(new IdentityLease { Name = name, Holder = holder, ExpiresAt = now + Duration });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The primary key refused a second holder: another instance has the lease.
            return null;
        }
        return new Lease(this, name, holder);
    }

    /// <summary>Takes the lease, waiting for the holder to release it for at most <paramref name="maxWait"/>; null if it never did.</summary>
    public async Task<Lease?> AcquireAsync(string name, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetTimestamp() + (long)(maxWait.TotalSeconds * timeProvider.TimestampFrequency);
        while (true)
        {
            if (await TryAcquireAsync(name, cancellationToken) is { } lease)
            {
                return lease;
            }
            if (timeProvider.GetTimestamp() >= deadline)
            {
                return null;
            }
            await Task.Delay(RetryDelay, timeProvider, cancellationToken);
        }
    }

    private async Task ReleaseAsync(string name, string holder)
    {
        // Not cancellable: a lease left behind would block the other instances until it lapses.
        await using var db = await dbContextFactory.CreateDbContextAsync(CancellationToken.None);
        await db.IdentityLeases.Where(lease => lease.Name == name && lease.Holder == holder).ExecuteDeleteAsync(CancellationToken.None);
    }

    /// <summary>A held lease; disposing it releases it.</summary>
    internal sealed class Lease(IdentityLeases owner, string name, string holder) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => new(owner.ReleaseAsync(name, holder));
    }
}
