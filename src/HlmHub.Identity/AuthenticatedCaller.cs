using Grpc.Core;
using HlmHub.Identity.Internal;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Identity;

/// <summary>
/// The caller of the current rpc, authenticated from its access token and authorized for the rpc's scope
/// and caller kind. Handlers read it with <see cref="CallerContextExtensions.GetCaller"/> and prove ownership
/// of the data the request names with <see cref="EnsureOwns"/>.
/// </summary>
public sealed class AuthenticatedCaller
{
    private readonly CallAuditor _auditor;
    private int _ownershipChecks;
    private Authorization.TokenExpiry? _expiry;

    internal AuthenticatedCaller(CallerIdentity identity, RpcPolicyAttribute policy, CallAuditor auditor)
    {
        Identity = identity;
        Policy = policy;
        _auditor = auditor;
    }

    internal CallerIdentity Identity { get; }

    /// <summary>The rpc being served (its full method name), for logs.</summary>
    internal string Rpc => _auditor.Rpc;

    /// <summary>The OAuth client id (<c>client_id</c>, else <c>sub</c>).</summary>
    public string ClientId => Identity.ClientId;

    /// <summary>The issuer that vouched for the caller.</summary>
    public string Issuer => Identity.Issuer;

    /// <summary>The caller's kind (exactly one flag).</summary>
    public CallerKind Kind => Identity.Kind;

    /// <summary>The partner the caller acts for, when <see cref="Kind"/> is <see cref="CallerKind.Partner"/>.</summary>
    public string? PartnerId => Identity.PartnerId;

    /// <summary>The landlord the caller acts for, when <see cref="Kind"/> is <see cref="CallerKind.Landlord"/>.</summary>
    public string? LandlordId => Identity.LandlordId;

    /// <summary>The club the caller administers, when <see cref="Kind"/> is <see cref="CallerKind.ClubAdmin"/>.</summary>
    public string? ClubId => Identity.ClubId;

    /// <summary>The scopes granted to the token.</summary>
    public IReadOnlySet<string> Scopes => Identity.Scopes;

    /// <summary>The rule declared on the rpc being served.</summary>
    public RpcPolicyAttribute Policy { get; }

    /// <summary>
    /// Cancelled when the caller's token expires, during a streaming rpc (never cancelled otherwise). The streams of
    /// such a call already end with UNAUTHENTICATED at the first read or write after it; a handler that waits
    /// between writes (a poll) links this token with the call's, then calls <see cref="ThrowIfTokenExpired"/>.
    /// </summary>
    public CancellationToken TokenExpired => _expiry?.Token ?? CancellationToken.None;

    /// <summary>Ends the call with UNAUTHENTICATED when the caller's token has expired during a streaming rpc.</summary>
    public void ThrowIfTokenExpired() => _expiry?.ThrowIfExpired();

    internal void ExpiresWith(Authorization.TokenExpiry expiry) => _expiry = expiry;

    /// <summary>True once the handler checked ownership (successfully) at least once.</summary>
    public bool OwnershipChecked => Volatile.Read(ref _ownershipChecks) > 0;

    /// <summary>
    /// True when the caller owns the <paramref name="owner"/> with <paramref name="id"/>: a partner its own
    /// partner, a landlord its own landlord, a club admin its own club; a hub admin owns everything.
    /// Counts as the ownership check the rpc's policy requires.
    /// </summary>
    /// <exception cref="InvalidOperationException">The rpc's policy does not declare that kind of ownership (a bug in the handler or its policy).</exception>
    public bool Owns(OwnerKind owner, string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var declared = owner switch
        {
            OwnerKind.Partner => Ownership.OwnPartner,
            OwnerKind.Landlord => Ownership.OwnLandlord,
            OwnerKind.Club => Ownership.OwnClub,
            _ => throw new ArgumentOutOfRangeException(nameof(owner)),
        };
        if ((Policy.Ownership & declared) == 0)
        {
            // Checking an ownership the policy does not declare means the policy is wrong: the reader of the
            // attribute must see every rule the rpc enforces.
            throw new InvalidOperationException(
                $"The rpc's [RpcPolicy] declares Ownership.{Policy.Ownership}, but the handler checks {owner} ownership: declare {declared}.");
        }
        Interlocked.Increment(ref _ownershipChecks);
        return Kind switch
        {
            CallerKind.HubAdmin => true,
            CallerKind.Partner => owner == OwnerKind.Partner && string.Equals(PartnerId, id, StringComparison.Ordinal),
            CallerKind.Landlord => owner == OwnerKind.Landlord && string.Equals(LandlordId, id, StringComparison.Ordinal),
            CallerKind.ClubAdmin => owner == OwnerKind.Club && string.Equals(ClubId, id, StringComparison.Ordinal),
            _ => false,
        };
    }

    /// <summary>
    /// Throws PERMISSION_DENIED (and audits the denial) unless the caller owns the <paramref name="owner"/>
    /// with <paramref name="id"/>; see <see cref="Owns"/>. Call it before touching the data.
    /// </summary>
    /// <exception cref="RpcException">PERMISSION_DENIED: the caller does not own it.</exception>
    public void EnsureOwns(OwnerKind owner, string id)
    {
        if (!Owns(owner, id))
        {
            var reason = $"{Kind} caller may not act on {owner.ToString().ToLowerInvariant()} '{id}'";
            _auditor.Denied(ClientId, reason);
            // The id stays in the audit log: the caller may not have named it (a club read from another club's
            // contract or offer), and the answer must not tell it who owns what.
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Permission denied: the caller does not own the {owner.ToString().ToLowerInvariant()} this request is about."));
        }
    }
}

/// <summary>Reads the authenticated caller from a call.</summary>
public static class CallerContextExtensions
{
    /// <summary>The caller authenticated and authorized for this call (by its rpc's <see cref="RpcPolicyAttribute"/>).</summary>
    /// <exception cref="InvalidOperationException">The call has no authenticated caller (an anonymous service).</exception>
    public static AuthenticatedCaller GetCaller(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetHttpContext().Features.Get<AuthenticatedCaller>()
            ?? throw new InvalidOperationException($"{context.Method} has no authenticated caller: its service is anonymous.");
    }
}
