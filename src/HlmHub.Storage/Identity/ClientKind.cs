namespace HlmHub.Storage.Identity;

/// <summary>
/// What kind of caller an OAuth client is, and so which entity it is bound to. Stored by name in the client's
/// OpenIddict application properties (<c>hlmhub_kind</c>).
/// </summary>
public enum ClientKind
{
    /// <summary>A partner system (insurer, merchant...), bound to a partner id.</summary>
    Partner,

    /// <summary>A landlord system, bound to a landlord id.</summary>
    Landlord,

    /// <summary>A club administrator (bound to a club id), or a hub administrator when it has none.</summary>
    Admin,
}
