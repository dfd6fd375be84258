using System.Globalization;
using Microsoft.AspNetCore.Authorization;

namespace HlmHub.Identity;

/// <summary>Who may call an rpc. Combine with <c>|</c> when several kinds may.</summary>
[Flags]
public enum CallerKind
{
    /// <summary>No caller kind (never valid in a policy).</summary>
    None = 0,

    /// <summary>A partner system bound to one partner.</summary>
    Partner = 1,

    /// <summary>A landlord system bound to one landlord.</summary>
    Landlord = 2,

    /// <summary>An administrator of one club.</summary>
    ClubAdmin = 4,

    /// <summary>A hub administrator (an admin client bound to no club): owns everything.</summary>
    HubAdmin = 8,

    /// <summary>Any administrator.</summary>
    Admin = ClubAdmin | HubAdmin,

    /// <summary>Any authenticated caller.</summary>
    Any = Partner | Landlord | Admin,
}

/// <summary>
/// Whose data an rpc touches. The handler proves ownership with <see cref="AuthenticatedCaller.EnsureOwns"/>
/// once it has read the ids from the request; the interceptor fails the call when a handler declared an
/// ownership rule and never checked it.
/// </summary>
[Flags]
public enum Ownership
{
    /// <summary>The rpc touches no data owned by a partner, landlord or club (or only public data).</summary>
    None = 0,

    /// <summary>A partner caller may act only on its own partner's data (offers, redemptions, statements).</summary>
    OwnPartner = 1,

    /// <summary>A landlord caller may act only on its own landlord's data (roster).</summary>
    OwnLandlord = 2,

    /// <summary>A club admin may act only on its own club.</summary>
    OwnClub = 4,
}

/// <summary>The kind of owner an id refers to in <see cref="AuthenticatedCaller.EnsureOwns"/>.</summary>
public enum OwnerKind
{
    /// <summary>A partner id.</summary>
    Partner,

    /// <summary>A landlord id.</summary>
    Landlord,

    /// <summary>A club id.</summary>
    Club,
}

/// <summary>
/// The security contract of one rpc, placed on its generated <c>override</c>: the scope the token must carry,
/// the caller kinds allowed, and whose data the handler touches. It is an ASP.NET Core
/// <see cref="AuthorizeAttribute"/> naming a policy that <c>RpcPolicyProvider</c> builds from these three values,
/// so the authorization middleware checks scope and caller kind before the request is read. Ownership needs the
/// request, so the handler proves it with <see cref="AuthenticatedCaller.EnsureOwns"/> before its first write
/// (a write before the check fails). Start-up fails for any gRPC method without one, unless it is one of the
/// anonymous standard services (health, reflection).
/// </summary>
/// <example><c>[RpcPolicy("hlmhub.roster", CallerKind.Landlord, Ownership.OwnLandlord)]</c></example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RpcPolicyAttribute : AuthorizeAttribute
{
    /// <summary>The prefix of the policy names this attribute produces.</summary>
    internal const string PolicyPrefix = "hlmhub-rpc:";

    /// <summary>Declares the rule.</summary>
    /// <param name="scope">The OAuth scope the token must carry, e.g. <c>hlmhub.roster</c>.</param>
    /// <param name="caller">The caller kinds allowed.</param>
    /// <param name="ownership">Whose data the rpc touches.</param>
    public RpcPolicyAttribute(string scope, CallerKind caller, Ownership ownership)
    {
        Scope = scope;
        Caller = caller;
        Ownership = ownership;
        Policy = string.Create(CultureInfo.InvariantCulture, $"{PolicyPrefix}{(int)caller}:{(int)ownership}:{scope}");
    }

    /// <summary>The scope the token must carry.</summary>
    public string Scope { get; }

    /// <summary>The caller kinds allowed.</summary>
    public CallerKind Caller { get; }

    /// <summary>Whose data the rpc touches; the handler must prove it with <see cref="AuthenticatedCaller.EnsureOwns"/>.</summary>
    public Ownership Ownership { get; }
}
