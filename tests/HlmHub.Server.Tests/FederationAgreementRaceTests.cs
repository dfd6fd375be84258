using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Server.Features.Federation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Server.Tests;

/// <summary>
/// Both parties ending one federation agreement at the same moment, through the code path of FederationService and
/// AdminService (<see cref="FederationAgreementChanges"/>) on a real database. The race is made deterministic: the
/// other party's whole change runs, on a context of its own, to its commit just before the first call's save, so the
/// first call saves over a row that changed after it was read.
/// </summary>
public abstract class FederationAgreementRaceTests(StorageProvider provider) : IAsyncLifetime
{
    private const string HostId = "bailleur-hote";
    private const string NeighbourId = "bailleur-voisin";

    private EmptyDatabase? _database;
    private ServiceProvider? _services;
    private Guid _agreementId;

    private IDbContextFactory<HlmHubDbContext> Factory => _services!.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

    public async Task InitializeAsync()
    {
        var cancellationToken = TestTimeouts.Token();
        _database = await EmptyDatabase.CreateAsync(provider, cancellationToken);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_database.Settings).Build();
        _services = new ServiceCollection().AddHlmHubStorage(configuration).AddLogging().BuildServiceProvider();
        await _services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(cancellationToken);

        var now = SampleWorld.Now;
        var host = Landlord.Create(HostId, "Bailleur hôte", SampleWorld.Siren(), now);
        var neighbour = Landlord.Create(NeighbourId, "Bailleur voisin", SampleWorld.Siren(), now);
        var club = Club.Create("club-hote", "Club hôte", host.Id, ClubKind.TenantClub, null, now);
        var agreement = FederationAgreement.Propose(Guid.NewGuid(), club, neighbour.Id, host.Id, now);
        agreement.Accept(club, neighbour.Id, now);
        await using var db = await Factory.CreateDbContextAsync(cancellationToken);
        db.AddRange(host, neighbour, club, agreement);
        await db.SaveChangesAsync(cancellationToken);
        _agreementId = agreement.Id;
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task HostsLaterNotice_SavedAfterTheNeighboursEarlierOneCommitted_IsRefused_AndTheEarlierEndStands()
    {
        var cancellationToken = TestTimeouts.Token();
        var now = Millisecond(TimeProvider.System.GetUtcNow());
        var (earlier, later) = (now.AddDays(30), now.AddDays(60));
        var racing = Racing(token => EndAsync(Factory, NeighbourId, earlier, token));

        var refused = await Assert.ThrowsAsync<DomainException>(() => EndAsync(racing, HostId, later, cancellationToken));
        var stored = await StoredAsync(cancellationToken);

        Assert.Equal(DomainErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("an end can be brought forward, not pushed back", refused.Rule, StringComparison.Ordinal);
        Assert.Equal((FederationStatus.Active, (DateTimeOffset?)earlier), (stored.Status, stored.EndedAt));
    }

    [Fact]
    public async Task NeighboursNotice_SavedAfterTheHostEndedItAtOnce_IsRefused_AndTheAgreementStaysEndedAtThatInstant()
    {
        var cancellationToken = TestTimeouts.Token();
        var notice = Millisecond(TimeProvider.System.GetUtcNow()).AddDays(30);
        DateTimeOffset endedAt = default;
        var racing = Racing(async token => endedAt = await EndAsync(Factory, HostId, null, token));

        var refused = await Assert.ThrowsAsync<DomainException>(() => EndAsync(racing, NeighbourId, notice, cancellationToken));
        var stored = await StoredAsync(cancellationToken);

        Assert.Equal(DomainErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("already ended", refused.Rule, StringComparison.Ordinal);
        Assert.Equal((FederationStatus.Ended, (DateTimeOffset?)Millisecond(endedAt)), (stored.Status, stored.EndedAt));
    }

    [Fact]
    public async Task ChangedAgainWhileDecidingAnew_IsAborted_AndWritesNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        var now = Millisecond(TimeProvider.System.GetUtcNow());
        // The host gives notice before each of the neighbour's two saves, each time to a date the neighbour's is before.
        var racing = Racing(
            token => EndAsync(Factory, HostId, now.AddDays(60), token),
            token => EndAsync(Factory, HostId, now.AddDays(45), token));

        var aborted = await Assert.ThrowsAsync<RpcException>(() => EndAsync(racing, NeighbourId, now.AddDays(30), cancellationToken));
        var stored = await StoredAsync(cancellationToken);

        Assert.Equal(StatusCode.Aborted, aborted.StatusCode);
        Assert.Contains("changed meanwhile", aborted.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("read it again and retry", aborted.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((FederationStatus.Active, (DateTimeOffset?)now.AddDays(45)), (stored.Status, stored.EndedAt));
    }

    /// <summary>One party ends the agreement, as FederationService.EndFederation does for it. Returns the instant decided at.</summary>
    private async Task<DateTimeOffset> EndAsync(IDbContextFactory<HlmHubDbContext> factory, string landlordId, DateTimeOffset? endsAt, CancellationToken cancellationToken)
    {
        var (_, at) = await FederationAgreementChanges.ChangeAsync(factory, TimeProvider.System, _agreementId,
            (agreement, club, now) => agreement.End(club, landlordId, endsAt, now), cancellationToken);
        return at;
    }

    private async Task<FederationAgreement> StoredAsync(CancellationToken cancellationToken)
    {
        await using var db = await Factory.CreateDbContextAsync(cancellationToken);
        return await db.FederationAgreements.AsNoTracking().SingleAsync(agreement => agreement.Id == _agreementId, cancellationToken);
    }

    private RacingFactory Racing(params Func<CancellationToken, Task>[] meanwhile) =>
        new(HlmHubDbContextOptions.Create(provider, _database!.ConnectionString), meanwhile);

    // Instants are stored to the millisecond.
    private static DateTimeOffset Millisecond(DateTimeOffset instant) => DateTimeOffset.FromUnixTimeMilliseconds(instant.ToUnixTimeMilliseconds());

    /// <summary>Contexts whose every save first runs the next of <paramref name="meanwhile"/> (the other party's change) to its commit.</summary>
    private sealed class RacingFactory(DbContextOptions<HlmHubDbContext> options, Func<CancellationToken, Task>[] meanwhile)
        : SaveChangesInterceptor, IDbContextFactory<HlmHubDbContext>
    {
        private readonly Queue<Func<CancellationToken, Task>> _meanwhile = new(meanwhile);

        private DbContextOptions<HlmHubDbContext>? _intercepted;

        public HlmHubDbContext CreateDbContext() =>
            new(_intercepted ??= new DbContextOptionsBuilder<HlmHubDbContext>(options).AddInterceptors(this).Options);

        public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
            DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (_meanwhile.TryDequeue(out var change))
            {
                await change(cancellationToken);
            }

            return result;
        }
    }
}

public sealed class SqliteFederationAgreementRaceTests() : FederationAgreementRaceTests(StorageProvider.Sqlite);

public sealed class PostgresFederationAgreementRaceTests() : FederationAgreementRaceTests(StorageProvider.Postgres);
