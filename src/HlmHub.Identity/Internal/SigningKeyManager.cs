using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Identity.Issuer;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>One signing key loaded from the database.</summary>
internal sealed record LoadedSigningKey(
    string KeyId,
    string Algorithm,
    SigningCredentials Credentials,
    ECDsaSecurityKey PublicKey,
    string PublicJwk,
    DateTimeOffset ActivatesAt,
    DateTimeOffset? RetiresAt);

/// <summary>The keys in force at <see cref="LoadedAt"/>: the one that signs, and every one in the JWKS.</summary>
/// <summary>Whether the embedded issuer still publishes a signing key (<see cref="SigningKeyManager.StillPublishes"/>).</summary>
internal interface IPublishedSigningKeys
{
    bool StillPublishes(string keyId);
}

internal sealed record SigningKeySet(DateTimeOffset LoadedAt, LoadedSigningKey Signing, IReadOnlyList<LoadedSigningKey> Published)
{
    public IReadOnlyList<SecurityKey> ValidationKeys { get; } = Published.Select(k => (SecurityKey)k.PublicKey).ToArray();

    /// <summary>The ids of the keys tokens may be signed with.</summary>
    public IReadOnlySet<string> PublishedKeyIds { get; } = Published.Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// Keeps the embedded issuer's signing keys: creates the first one, announces the next one
/// <see cref="EmbeddedIssuerOptions.KeyAnnouncementLead"/> before it signs, retires the current one when the
/// next takes over and drops a retired key from the JWKS once every token it signed has expired. State lives in
/// the database so every hub instance signs with the same keys; each instance caches it for
/// <see cref="EmbeddedIssuerOptions.KeyCacheRefreshInterval"/>. Private keys are stored encrypted with ASP.NET
/// Core Data Protection (key ring in the same database, shared by every instance). Every change to the keys is
/// made under the <see cref="IdentityLeases.SigningKeys"/> lease, so two instances never create, retire or purge
/// keys at the same time. OpenIddict signs with <see cref="SigningKeySet.Signing"/> and publishes
/// <see cref="SigningKeySet.Published"/> (see <c>Issuer/SigningKeyHandlers.cs</c>).
/// </summary>
internal sealed class SigningKeyManager(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IdentityLeases leases,
    IDataProtectionProvider dataProtection,
    IOptions<AuthOptions> options,
    TimeProvider timeProvider,
    ILogger<SigningKeyManager> logger) : ISigningKeyRotation, IPublishedSigningKeys
{
    /// <summary>The Data Protection purpose of signing keys: a payload protected for another purpose never decrypts here.</summary>
    internal const string ProtectionPurpose = "HlmHub.Identity.SigningKeys.v1";

    /// <summary>How long an instance waits for another one to finish changing the keys.</summary>
    private static readonly TimeSpan LeaseWait = TimeSpan.FromSeconds(10);

    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurpose);

    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile SigningKeySet? _current;

    // The reload a token naming an unknown key started (ReloadAsync), while it runs: validations wait for its set.
    private Task<SigningKeySet>? _reloadInFlight;

    // Keys already imported, reused across refreshes (guarded by _refreshLock) so that a refresh every minute
    // does not re-import every key and leave the signature-provider cache pointing at discarded objects.
    private Dictionary<string, LoadedSigningKey> _loaded = new(StringComparer.Ordinal);

    private EmbeddedIssuerOptions Embedded => options.Value.EmbeddedIssuer;

    /// <summary>A retired key stays published this long after it stops signing: the last token it signed must expire first.</summary>
    private TimeSpan RetentionAfterRetirement => options.Value.TokenLifetime + options.Value.ClockSkew;

    /// <summary>
    /// Whether a token signed with <paramref name="keyId"/> and validated earlier may still be served from the
    /// validated-token cache: its key is published in the key set loaded less than
    /// <see cref="EmbeddedIssuerOptions.KeyCacheRefreshInterval"/> ago. False when the key was revoked, here at once or
    /// on another instance within that interval, and when the set is due for a reload (the token is then validated
    /// again, which reloads it). A field read and a set lookup: this runs on every call that carries a cached token.
    /// </summary>
    public bool StillPublishes(string keyId)
    {
        var current = _current;
        return current is not null && current.PublishedKeyIds.Contains(keyId) && IsFresh(current, timeProvider.GetUtcNow());
    }

    /// <summary>The keys in force now, from the cache when it is fresh.</summary>
    public async ValueTask<SigningKeySet> GetKeySetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        var now = timeProvider.GetUtcNow();
        if (current is not null && IsFresh(current, now))
        {
            return current;
        }

        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            current = _current;
            if (current is not null && IsFresh(current, timeProvider.GetUtcNow()))
            {
                return current;
            }

            return await RefreshLockedAsync(rotateNow: false, cancellationToken);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <summary>
    /// The keys in force now, for validating a token: as <see cref="GetKeySetAsync"/>, except while another call
    /// reloads the keys because its token names a key this instance has not seen (<see cref="ReloadAsync"/>): then
    /// the set that reload reads, since a token of that same new key arriving meanwhile must not be refused on the
    /// set it replaces. Only such a reload is waited for: a rotation, a revocation or a scheduled refresh, which may
    /// wait for another instance's lease, holds no validation back.
    /// </summary>
    public async ValueTask<SigningKeySet> GetKeySetForValidationAsync(CancellationToken cancellationToken)
    {
        if (_reloadInFlight is { } reload)
        {
            try
            {
                return await reload.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The reload failed: read the keys as any call does.
            }
        }

        return await GetKeySetAsync(cancellationToken);
    }

    /// <summary>
    /// The keys in force now, read again from the database whatever the cache holds: another instance may have
    /// created a key this one has not seen yet (the resource server asks when a token names an unknown key).
    /// </summary>
    public async ValueTask<SigningKeySet> ReloadAsync(CancellationToken cancellationToken)
    {
        var reload = new TaskCompletionSource<SigningKeySet>(TaskCreationOptions.RunContinuationsAsynchronously);
        _reloadInFlight = reload.Task;
        try
        {
            await _refreshLock.WaitAsync(cancellationToken);
            try
            {
                var set = await RefreshLockedAsync(rotateNow: false, cancellationToken);
                reload.TrySetResult(set);
                return set;
            }
            finally
            {
                _refreshLock.Release();
            }
        }
        finally
        {
            // Failed or cancelled: the calls waiting for it read the keys themselves (GetKeySetForValidationAsync).
            reload.TrySetCanceled(CancellationToken.None);
            _ = Interlocked.CompareExchange(ref _reloadInFlight, null, reload.Task);
        }
    }

    /// <inheritdoc />
    public async Task<string> RotateNowAsync(CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            var set = await RefreshLockedAsync(rotateNow: true, cancellationToken);
            return set.Signing.KeyId;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            bool removed;
            await using (var lease = await leases.AcquireAsync(IdentityLeases.SigningKeys, LeaseWait, cancellationToken)
                ?? throw new InvalidOperationException("Another hub instance holds the signing-keys lease; retry."))
            {
                await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
                removed = await db.SigningKeys.Where(k => k.KeyId == keyId).ExecuteDeleteAsync(cancellationToken) > 0;
            }
            if (removed)
            {
                IdentityLog.SigningKeyRevoked(logger, keyId);
                _loaded.Remove(keyId);
            }
            // Reloaded at once: when the revoked key was signing, a new one signs from now on.
            await RefreshLockedAsync(rotateNow: false, cancellationToken);
            return removed;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private bool IsFresh(SigningKeySet set, DateTimeOffset now) =>
        now - set.LoadedAt < Embedded.KeyCacheRefreshInterval
        && (set.Signing.RetiresAt is null || set.Signing.RetiresAt > now);

    private async Task<SigningKeySet> RefreshLockedAsync(bool rotateNow, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        List<SigningKey> keys;
        await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
        {
            keys = await db.SigningKeys.AsNoTracking().ToListAsync(cancellationToken);
        }
        if (rotateNow || NeedsChange(keys, now))
        {
            // Changes are made by one instance at a time, on keys read again under the lease: the other instance
            // may have made them already.
            await using var lease = await leases.AcquireAsync(IdentityLeases.SigningKeys, LeaseWait, cancellationToken);
            if (lease is not null)
            {
                now = timeProvider.GetUtcNow();
                keys = await ChangeKeysAsync(rotateNow, now, cancellationToken);
            }
            else if (SelectSigningKey(keys, now) is null)
            {
                throw new InvalidOperationException("No signing key is usable and another hub instance holds the signing-keys lease.");
            }
        }

        var active = SelectSigningKey(keys, now)!;
        var published = keys
            .Where(k => k.CreatedAt <= now && (k.ExpiresAt is null || k.ExpiresAt > now))
            .OrderBy(k => k.ActivatesAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => _loaded.TryGetValue(k.KeyId, out var loaded) ? loaded with { RetiresAt = k.RetiresAt } : Load(k))
            .ToList();
        _loaded = published.ToDictionary(k => k.KeyId, StringComparer.Ordinal);
        var signing = published.Single(k => k.KeyId == active.KeyId);
        var set = new SigningKeySet(now, signing, published);
        _current = set;
        return set;
    }

    /// <summary>Whether the keys as read need a change: a purge, a first key, the next key to announce, or a superseded key to retire.</summary>
    private bool NeedsChange(List<SigningKey> keys, DateTimeOffset now)
    {
        if (keys.Any(k => k.ExpiresAt is { } expiresAt && expiresAt <= now))
        {
            return true;
        }
        var active = SelectSigningKey(keys, now);
        return active is null
            || (!keys.Any(k => k.ActivatesAt > now) && now >= active.ActivatesAt + Embedded.KeyRotationInterval - Embedded.KeyAnnouncementLead)
            || keys.Any(k => k.RetiresAt is null && NextToActivateAfter(keys, k) is not null);
    }

    /// <summary>Applies the due changes under the lease and returns the keys as they now stand.</summary>
    private async Task<List<SigningKey>> ChangeKeysAsync(bool rotateNow, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // Private keys have no use once their tokens have all expired. A set-based delete: it never fails
        // because another writer removed a row first.
        await db.SigningKeys.Where(k => k.ExpiresAt != null && k.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        var keys = await db.SigningKeys.ToListAsync(cancellationToken);

        var active = SelectSigningKey(keys, now);
        if (rotateNow && active is not null)
        {
            Retire(active, now);
            active = null;
        }
        if (active is null)
        {
            active = CreateKey(now, now);
            db.SigningKeys.Add(active);
            keys.Add(active);
        }
        var hasSuccessor = keys.Any(k => k.ActivatesAt > now);
        if (!hasSuccessor && now >= active.ActivatesAt + Embedded.KeyRotationInterval - Embedded.KeyAnnouncementLead)
        {
            var activatesAt = Max(active.ActivatesAt + Embedded.KeyRotationInterval, now + Embedded.KeyAnnouncementLead);
            var next = CreateKey(now, activatesAt);
            db.SigningKeys.Add(next);
            keys.Add(next);
            Retire(active, activatesAt);
        }
        RetireSuperseded(keys);
        await db.SaveChangesAsync(cancellationToken);
        return keys;
    }

    /// <summary>
    /// Gives every key that a later one will replace, and that has no retirement yet, the retirement at which that
    /// later key takes over. A key created while the next one is already announced (by <see cref="RotateNowAsync"/>,
    /// <see cref="RevokeAsync"/> or an emptied table in the last <see cref="EmbeddedIssuerOptions.KeyAnnouncementLead"/>)
    /// needs it, or it would stay published and stored forever after the next key takes over; a database that
    /// already holds such a key gets it at the next refresh (<see cref="NeedsChange"/>). Its tokens then keep
    /// validating until <see cref="RetentionAfterRetirement"/> after the handover, like any retired key's.
    /// </summary>
    private void RetireSuperseded(List<SigningKey> keys)
    {
        foreach (var key in keys)
        {
            if (key.RetiresAt is null && NextToActivateAfter(keys, key) is { } next)
            {
                Retire(key, next.ActivatesAt);
            }
        }
    }

    /// <summary>The key that takes over from <paramref name="key"/>: the first to activate after it, if any.</summary>
    private static SigningKey? NextToActivateAfter(List<SigningKey> keys, SigningKey key) =>
        keys.Where(k => k.ActivatesAt > key.ActivatesAt).MinBy(k => k.ActivatesAt);

    private static SigningKey? SelectSigningKey(List<SigningKey> keys, DateTimeOffset now) =>
        keys.Where(k => k.ActivatesAt <= now && (k.RetiresAt is null || k.RetiresAt > now))
            .OrderByDescending(k => k.ActivatesAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .FirstOrDefault();

    private void Retire(SigningKey key, DateTimeOffset retiresAt)
    {
        key.RetiresAt = retiresAt;
        key.ExpiresAt = retiresAt + RetentionAfterRetirement;
    }

    private SigningKey CreateKey(DateTimeOffset now, DateTimeOffset activatesAt)
    {
        var algorithm = Embedded.SigningAlgorithm;
        using var ecdsa = ECDsa.Create(CurveFor(algorithm));
        var keyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var key = new SigningKey
        {
            KeyId = keyId,
            Algorithm = algorithm,
            ProtectedPrivateKey = _protector.Protect(ecdsa.ExportPkcs8PrivateKey()),
            PublicJwk = PublicJwkJson(ecdsa, keyId, algorithm),
            CreatedAt = now,
            ActivatesAt = activatesAt,
        };
        IdentityLog.SigningKeyCreated(logger, keyId, algorithm, activatesAt);
        return key;
    }

    private LoadedSigningKey Load(SigningKey key)
    {
        var privateEcdsa = ECDsa.Create();
        var pkcs8 = _protector.Unprotect(key.ProtectedPrivateKey);
        try
        {
            privateEcdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
        var privateKey = new ECDsaSecurityKey(privateEcdsa) { KeyId = key.KeyId };
        var publicKey = new ECDsaSecurityKey(ECDsa.Create(privateEcdsa.ExportParameters(includePrivateParameters: false))) { KeyId = key.KeyId };
        return new LoadedSigningKey(
            key.KeyId,
            key.Algorithm,
            new SigningCredentials(privateKey, key.Algorithm),
            publicKey,
            key.PublicJwk,
            key.ActivatesAt,
            key.RetiresAt);
    }

    internal static ECCurve CurveFor(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha256 => ECCurve.NamedCurves.nistP256,
        SecurityAlgorithms.EcdsaSha384 => ECCurve.NamedCurves.nistP384,
        SecurityAlgorithms.EcdsaSha512 => ECCurve.NamedCurves.nistP521,
        _ => throw new InvalidOperationException($"Auth:EmbeddedIssuer:SigningAlgorithm '{algorithm}' is not supported: use ES256, ES384 or ES512."),
    };

    internal static string PublicJwkJson(ECDsa ecdsa, string keyId, string algorithm)
    {
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        var curve = algorithm switch
        {
            SecurityAlgorithms.EcdsaSha256 => "P-256",
            SecurityAlgorithms.EcdsaSha384 => "P-384",
            _ => "P-521",
        };
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["use"] = "sig",
            ["alg"] = algorithm,
            ["kid"] = keyId,
            ["crv"] = curve,
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        });
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
