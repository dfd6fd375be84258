using System.Text.Json;
using System.Text.Json.Serialization;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Identity;
using HlmHub.Server.Features.Fees;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Demo;

/// <summary>What a demo seed did.</summary>
/// <param name="RecordsAdded">Landlords, clubs, agreements, partners, contracts, offers, households and memberships added (0 on a second run).</param>
/// <param name="ClientsRegistered">Demo OAuth clients registered (0 on a second run).</param>
/// <param name="CredentialsPath">The full path of <c>demo-clients.json</c>.</param>
/// <param name="Credentials">The demo clients' credentials as <c>demo-clients.json</c> now holds them.</param>
/// <param name="LostClientIds">
/// Demo clients that exist but whose secret is not in <c>demo-clients.json</c> any more (the hub only has its hash): a
/// secret rotation (<see cref="DemoSeeder.KeepRotatedSecretAsync"/>) puts a new one there.
/// </param>
/// <param name="TokenEndpoint">The token endpoint written next to the credentials, when known.</param>
internal sealed record DemoSeedResult(
    int RecordsAdded,
    int ClientsRegistered,
    string CredentialsPath,
    IReadOnlyList<DemoClientCredentials> Credentials,
    IReadOnlyList<string> LostClientIds,
    string? TokenEndpoint);

/// <summary>
/// Seeds a realistic demo (see <see cref="DemoData"/>) so a newcomer sees real data on first run, and writes the
/// demo clients' credentials to <c>demo-clients.json</c> in the data directory (mode 0600). Idempotent: what
/// exists is left alone, so a second run adds nothing and rewrites nothing. Called by <c>--seed-demo</c> once the
/// hub has started, and meant for the CLI's <c>hlmhub demo seed</c>. The file is the only place the hub holds a
/// secret in clear (it stores hashes): a demo client's rotated secret replaces the old one there
/// (<see cref="KeepRotatedSecretAsync"/>), so that a seed never hands back a secret that no longer works.
/// </summary>
internal sealed partial class DemoSeeder
{
    /// <summary>The credentials file's name in the data directory.</summary>
    public const string CredentialsFileName = "demo-clients.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly IDbContextFactory<HlmHubDbContext> _dbContextFactory;
    private readonly IClientRegistry _clientRegistry;
    private readonly MemberTokenGenerator _memberTokens;
    private readonly FeeAccrualService _feeAccrual;
    private readonly StorageOptions _storageOptions;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<DemoSeeder> _logger;

    // Two seeds at once would both find a record missing and the second would fail on its unique key, and a seed and
    // a rotation writing demo-clients.json at once would lose one of the two: one at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DemoSeeder(
        IDbContextFactory<HlmHubDbContext> dbContextFactory,
        IClientRegistry clientRegistry,
        MemberTokenGenerator memberTokens,
        FeeAccrualService feeAccrual,
        IOptions<StorageOptions> storageOptions,
        TimeProvider timeProvider,
        ILogger<DemoSeeder> logger)
    {
        _dbContextFactory = dbContextFactory;
        _clientRegistry = clientRegistry;
        _memberTokens = memberTokens;
        _feeAccrual = feeAccrual;
        _storageOptions = storageOptions.Value;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The demo OAuth clients: a partner (the bakery), a landlord (the host) and the club's administrator.</summary>
    internal static IReadOnlyList<(string Role, ClientRegistration Registration)> DemoClients { get; } =
    [
        ("partner", new ClientRegistration(
            ClientKind.Partner, "Demo partner: Boulangerie de la Place", ["hlmhub.redemptions", "hlmhub.statements", "hlmhub.offers.read"],
            PartnerId: DemoData.BakeryId, ClientId: "demo-partner-bakery")),
        ("landlord", new ClientRegistration(
            ClientKind.Landlord, "Demo landlord: Plaine Commune Habitat", ["hlmhub.roster", "hlmhub.federation"],
            LandlordId: DemoData.HostLandlordId, ClientId: "demo-landlord-plaine-commune")),
        ("club_admin", new ClientRegistration(
            ClientKind.Admin, "Demo club administrator: Club des locataires", ["hlmhub.admin"],
            ClubId: DemoData.ClubId, ClientId: "demo-club-admin")),
    ];

    /// <summary>Seeds the demo; see the class remarks.</summary>
    /// <param name="tokenEndpoint">The token endpoint to write next to the credentials, when known.</param>
    /// <param name="cancellationToken">Cancels the seed (nothing is half-written: the data is saved at once).</param>
    public async Task<DemoSeedResult> SeedAsync(string? tokenEndpoint, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await SeedOnceAsync(tokenEndpoint, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Keeps a demo client's new secret in <c>demo-clients.json</c>, in place of the one it replaced or of one lost
    /// with a deleted file, so that the next seed hands back the secret that works. Called once the secret is rotated:
    /// a file that cannot be written is logged, not thrown, since the caller still gets the secret.
    /// </summary>
    /// <returns>
    /// False, and nothing written, for a client that is not a demo client, or on a hub that was never seeded (a
    /// client someone registered with a demo id there is not the demo's, and its secret stays out of any file).
    /// </returns>
    public async Task<bool> KeepRotatedSecretAsync(string clientId, string secret, CancellationToken cancellationToken)
    {
        var index = DemoClientIndex(clientId);
        if (index < 0 || !await IsSeededAsync(cancellationToken))
        {
            return false;
        }

        var path = CredentialsPath();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            PrivateDirectory.Create(_storageOptions.DataDirectory);
            var file = await ReadCredentialsAsync(path, cancellationToken);
            var (role, registration) = DemoClients[index];
            var entries = (file?.Clients ?? [])
                .Where(entry => entry.ClientId != clientId)
                .Append(Credentials(role, registration, secret))
                .OrderBy(entry => DemoClientIndex(entry.ClientId) is var at and >= 0 ? at : int.MaxValue)
                .ToList();
            await WriteCredentialsAsync(path, new DemoCredentialsFile(file?.TokenEndpoint, entries), cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or JsonException)
        {
            LogRotatedSecretNotKept(_logger, exception, clientId, path);
            return true;
        }
        finally
        {
            _gate.Release();
        }

        LogRotatedSecretKept(_logger, clientId, path);
        return true;
    }

    private async Task<bool> IsSeededAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbContextFactory.CreateDbContextAsync(cancellationToken);
        return await db.Clubs.AnyAsync(club => club.Id == DemoData.ClubId, cancellationToken);
    }

    private async Task<DemoSeedResult> SeedOnceAsync(string? tokenEndpoint, CancellationToken cancellationToken)
    {
        var recordsAdded = await SeedDataAsync(cancellationToken);
        // The demo's ledger as the daily fee job would have left it: the partners' fees due so far are booked, so a
        // first reconciliation reports what the newcomer did, not a year of fees the job has not run for yet.
        await _feeAccrual.AccrueAsync(DemoData.ClubId, cancellationToken);
        await SeedFeePaymentsAsync(cancellationToken);
        var clients = await SeedClientsAsync(tokenEndpoint, cancellationToken);
        LogSeeded(_logger, recordsAdded, clients.Registered, clients.Path);
        return new DemoSeedResult(recordsAdded, clients.Registered, clients.Path, clients.Entries, clients.Lost, clients.TokenEndpoint);
    }

    private async Task<int> SeedDataAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var year = Period.Of(now).Year;
        var startOfYear = new Period(year, 1).StartUtc;
        await using var db = await _dbContextFactory.CreateDbContextAsync(cancellationToken);

        foreach (var (id, name, siren, _) in DemoData.Landlords)
        {
            if (!await db.Landlords.AnyAsync(landlord => landlord.Id == id, cancellationToken))
            {
                db.Landlords.Add(Landlord.Create(id, name, siren, now));
            }
        }

        var club = await db.Clubs.SingleOrDefaultAsync(existing => existing.Id == DemoData.ClubId, cancellationToken);
        if (club is null)
        {
            club = Club.Create(DemoData.ClubId, "Club des locataires de Plaine Commune Habitat", DemoData.HostLandlordId, ClubKind.TenantClub, null, now);
            db.Clubs.Add(club);
        }

        var federated = await db.FederationAgreements.AnyAsync(
            agreement => agreement.ClubId == DemoData.ClubId && agreement.LandlordId == DemoData.NeighbourLandlordId, cancellationToken);
        if (!federated)
        {
            var agreement = FederationAgreement.Propose(Guid.CreateVersion7(now), club, DemoData.NeighbourLandlordId, DemoData.HostLandlordId, now);
            agreement.Accept(club, DemoData.NeighbourLandlordId, now);
            db.FederationAgreements.Add(agreement);
        }

        var partnerIds = DemoData.Partners.Select(demo => demo.Id).ToList();
        var partners = await db.Partners.Where(partner => partnerIds.Contains(partner.Id)).ToListAsync(cancellationToken);
        foreach (var (id, name, kind, trade, siret, inQpv) in DemoData.Partners.Where(demo => partners.All(partner => partner.Id != demo.Id)))
        {
            var partner = Partner.Create(id, name, kind, trade, siret, inQpv, now);
            partners.Add(partner);
            db.Partners.Add(partner);
        }

        var contractIds = partners.Select(partner => DemoData.ContractIdOf(partner.Id)).ToList();
        var contracts = await db.Contracts.Where(contract => contractIds.Contains(contract.Id)).ToListAsync(cancellationToken);
        var activeContracts = await db.Contracts.AsNoTracking()
            .Where(contract => contract.ClubId == DemoData.ClubId && contract.Status == ContractStatus.Active)
            .ToListAsync(cancellationToken);
        foreach (var partner in partners.Where(partner => contracts.All(contract => contract.PartnerId != partner.Id)))
        {
            // Default fees by kind: 100 EUR, 1,000 EUR for the plumber.
            var contract = Contract.Create(
                DemoData.ContractIdOf(partner.Id), club, partner, null, new DateOnly(year, 1, 1), null, activeContracts, now);
            contracts.Add(contract);
            activeContracts.Add(contract);
            db.Contracts.Add(contract);
        }

        var offerIds = await db.Offers.Select(offer => offer.Id).ToListAsync(cancellationToken);
        foreach (var (id, partnerId, title, terms) in DemoData.Offers(startOfYear).Where(offer => !offerIds.Contains(offer.Id)))
        {
            var (offer, version) = Offer.Create(id, contracts.Single(contract => contract.PartnerId == partnerId), title, terms, now);
            db.Offers.Add(offer);
            db.OfferVersions.Add(version);
        }

        await SeedHouseholdsAsync(db, club, now, cancellationToken);
        var added = db.ChangeTracker.Entries().Count(entry => entry.State == EntityState.Added);
        await db.SaveChangesAsync(cancellationToken);
        return added;
    }

    /// <summary>
    /// The demo partners pay their fees on time: every fee past its payment term gets a payment ten days after it
    /// fell due (reference <c>demo-yyyy-MM-dd</c>), so no demo fee is overdue. Fees still within their term stay owed.
    /// </summary>
    private async Task SeedFeePaymentsAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var today = Period.DayOf(now);
        await using var db = await _dbContextFactory.CreateDbContextAsync(cancellationToken);
        var contracts = await db.Contracts.AsNoTracking().Where(contract => contract.ClubId == DemoData.ClubId).ToListAsync(cancellationToken);
        var closed = await db.PeriodClosures.AsNoTracking()
            .Where(closure => closure.ClubId == DemoData.ClubId)
            .Select(closure => closure.Period)
            .ToListAsync(cancellationToken);
        var accountIds = await db.LedgerAccounts.Where(account => account.ClubId == DemoData.ClubId).Select(account => account.Id).ToListAsync(cancellationToken);
        var known = accountIds.ToHashSet(StringComparer.Ordinal);
        var due = contracts
            .SelectMany(contract => FeeBooking.DueDatesBetween(contract, contract.StartDate, today)
                .Where(dueDate => FeeBooking.PayBy(dueDate) < today)
                .Select(dueDate => (Contract: contract, DueDate: dueDate, Reference: $"demo-{dueDate:yyyy-MM-dd}")))
            .ToList();
        // One query for every payment key: those already booked (a second seed) are left alone.
        var keys = due.Select(item => IdempotencyKeys.FeePayment(item.Contract.Id, item.Reference)).ToList();
        var booked = (await db.LedgerTransactions
                .Where(transaction => keys.Contains(transaction.IdempotencyKey))
                .Select(transaction => transaction.IdempotencyKey)
                .ToListAsync(cancellationToken))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (contract, dueDate, reference) in due)
        {
            if (booked.Contains(IdempotencyKeys.FeePayment(contract.Id, reference)))
            {
                continue;
            }

            foreach (var account in FeeBooking.Accounts(contract.ClubId, contract.PartnerId).Where(account => known.Add(account.Id)))
            {
                db.LedgerAccounts.Add(account);
            }

            var paidAt = Period.StartOfDayUtc(dueDate.AddDays(10));
            db.LedgerTransactions.Add(FeeBooking.Payment(
                Guid.CreateVersion7(now), contract, reference, contract.YearlyFee, paidAt, PeriodRules.BookingPeriod(Period.Of(paidAt), closed), now));
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task SeedHouseholdsAsync(HlmHubDbContext db, Club club, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var generator = _memberTokens;
        foreach (var (landlordId, _, _, prefix) in DemoData.Landlords)
        {
            var count = landlordId == DemoData.HostLandlordId ? DemoData.HostHouseholds : DemoData.NeighbourHouseholds;
            var existing = await db.Households
                .Where(household => household.LandlordId == landlordId)
                .ToDictionaryAsync(household => household.LandlordReference, cancellationToken);
            var members = (await db.Memberships
                    .Where(membership => membership.ClubId == club.Id)
                    .Select(membership => membership.HouseholdId)
                    .ToListAsync(cancellationToken))
                .ToHashSet();
            for (var index = 1; index <= count; index++)
            {
                var reference = $"{prefix}{index:000000}";
                if (!existing.TryGetValue(reference, out var household))
                {
                    var (rooms, inQpv) = DemoData.HouseholdProfile(index);
                    household = Household.Create(
                        Guid.CreateVersion7(now), landlordId, reference, generator.Compute(landlordId, reference), rooms, inQpv, now);
                    db.Households.Add(household);
                }

                if (DemoData.JoinsClub(landlordId, index) && !members.Contains(household.Id))
                {
                    // The neighbour's households may join because the seed federated their landlord just before.
                    db.Memberships.Add(Membership.Join(club, household, landlordFederated: landlordId != club.HostLandlordId, now));
                }
            }
        }
    }

    private async Task<(int Registered, string Path, List<DemoClientCredentials> Entries, List<string> Lost, string? TokenEndpoint)> SeedClientsAsync(string? tokenEndpoint, CancellationToken cancellationToken)
    {
        PrivateDirectory.Create(_storageOptions.DataDirectory);
        var path = CredentialsPath();
        var file = await ReadCredentialsAsync(path, cancellationToken);
        var known = file?.Clients.ToDictionary(client => client.ClientId, StringComparer.Ordinal) ?? [];

        var existingIds = new List<string>();
        foreach (var (_, demo) in DemoClients)
        {
            if (await _clientRegistry.FindAsync(demo.ClientId!, cancellationToken) is not null)
            {
                existingIds.Add(demo.ClientId!);
            }
        }

        var entries = new List<DemoClientCredentials>();
        var lost = new List<string>();
        var registered = 0;
        foreach (var (role, registration) in DemoClients)
        {
            var clientId = registration.ClientId!;
            if (existingIds.Contains(clientId))
            {
                if (known.TryGetValue(clientId, out var entry))
                {
                    entries.Add(entry);
                }
                else
                {
                    // The secret was shown once, in a file since deleted: the hub only has its hash. A rotation
                    // (KeepRotatedSecretAsync) puts a new one in the file.
                    LogCredentialsLost(_logger, clientId, path);
                    lost.Add(clientId);
                }

                continue;
            }

            var client = await _clientRegistry.RegisterAsync(registration, cancellationToken);
            registered++;
            entries.Add(Credentials(role, registration, client.ClientSecret!));
        }

        var writtenTokenEndpoint = tokenEndpoint ?? file?.TokenEndpoint;
        if (registered > 0 || file is null)
        {
            await WriteCredentialsAsync(path, new DemoCredentialsFile(writtenTokenEndpoint, entries), cancellationToken);
        }

        return (registered, path, entries, lost, writtenTokenEndpoint);
    }

    private string CredentialsPath() => Path.GetFullPath(Path.Combine(_storageOptions.DataDirectory, CredentialsFileName));

    private static int DemoClientIndex(string clientId)
    {
        for (var index = 0; index < DemoClients.Count; index++)
        {
            if (DemoClients[index].Registration.ClientId == clientId)
            {
                return index;
            }
        }

        return -1;
    }

    private static DemoClientCredentials Credentials(string role, ClientRegistration registration, string secret) =>
        new(role, registration.ClientId!, secret, string.Join(' ', registration.AllowedScopes), registration.PartnerId, registration.LandlordId, registration.ClubId);

    private static Task WriteCredentialsAsync(string path, DemoCredentialsFile content, CancellationToken cancellationToken) =>
        WriteOwnerOnlyAsync(path, JsonSerializer.SerializeToUtf8Bytes(content, JsonOptions), cancellationToken);

    private static async Task<DemoCredentialsFile?> ReadCredentialsAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<DemoCredentialsFile>(stream, JsonOptions, cancellationToken);
    }

    // Created 0600 from the start, never readable by others even for a moment; an older file is replaced.
    private static async Task WriteOwnerOnlyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(content, cancellationToken);
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Demo seeded: {RecordsAdded} records and {ClientsRegistered} clients added; demo credentials are in {CredentialsPath}.")]
    private static partial void LogSeeded(ILogger logger, int recordsAdded, int clientsRegistered, string credentialsPath);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Demo client {ClientId} exists but its secret is not in {CredentialsPath} any more; it cannot be recovered: give it a new one (hlmhub clients rotate-secret {ClientId}), which the hub keeps in that file.")]
    private static partial void LogCredentialsLost(ILogger logger, string clientId, string credentialsPath);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Information, Message = "Demo client {ClientId} has a new secret: it replaces the old one in {CredentialsPath}.")]
    private static partial void LogRotatedSecretKept(ILogger logger, string clientId, string credentialsPath);

    [LoggerMessage(EventId = 4205, Level = LogLevel.Warning, Message = "Demo client {ClientId} has a new secret, but it could not be written to {CredentialsPath}: a demo seed hands back the old secret, which no longer works, until the file is fixed and the secret rotated again.")]
    private static partial void LogRotatedSecretNotKept(ILogger logger, Exception exception, string clientId, string credentialsPath);
}

/// <summary>The content of <c>demo-clients.json</c>.</summary>
internal sealed record DemoCredentialsFile(string? TokenEndpoint, IReadOnlyList<DemoClientCredentials> Clients);

/// <summary>One demo client's credentials.</summary>
internal sealed record DemoClientCredentials(
    string Role, string ClientId, string ClientSecret, string Scope, string? PartnerId, string? LandlordId, string? ClubId);
