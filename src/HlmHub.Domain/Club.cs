namespace HlmHub.Domain;

/// <summary>What a club is.</summary>
public enum ClubKind
{
    /// <summary>A tenants' club run like a works council (Plaine Commune's "Club des locataires").</summary>
    TenantClub,

    /// <summary>A conciergerie of services, possibly open to non-tenants (AMSOM's Saint-Ladre).</summary>
    Conciergerie,
}

/// <summary>A club hosted by a landlord, through which partners make offers to member households.</summary>
public sealed class Club
{
    private Club()
    {
        Id = "";
        Name = "";
        HostLandlordId = "";
    }

    /// <summary>The slug id.</summary>
    public string Id { get; private set; }

    /// <summary>The display name.</summary>
    public string Name { get; private set; }

    /// <summary>The landlord hosting the club; its households may join without a federation agreement.</summary>
    public string HostLandlordId { get; private set; }

    /// <summary>Tenant club or conciergerie.</summary>
    public ClubKind Kind { get; private set; }

    /// <summary>The members' subscription per month, if any (e.g. 1 EUR for the conciergerie).</summary>
    public Money? MonthlySubscription { get; private set; }

    /// <summary>When the club was created.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Validates and creates a club.</summary>
    public static Club Create(
        string id, string name, string hostLandlordId, ClubKind kind, Money? monthlySubscription, DateTimeOffset createdAt) => new()
    {
        Id = Require.Slug("id", id),
        Name = Require.Text("name", name, Limits.NameMaxLength),
        HostLandlordId = Require.Slug("hostLandlordId", hostLandlordId),
        Kind = Require.Defined("kind", kind),
        MonthlySubscription = monthlySubscription is { } subscription ? Require.Positive("monthlySubscription", subscription) : null,
        CreatedAt = createdAt,
    };
}
