namespace HlmHub.Domain.Rules;

/// <summary>
/// What the hub knows about one household in one club, read in one query: enough to decide eligibility without
/// loading the entities. <paramref name="AgreementStatus"/> and <paramref name="AgreementEndedAt"/> are those of the
/// club's live (not ended) agreement with the household's landlord, null when there is none.
/// </summary>
public readonly record struct ClubMemberFacts(
    string HostLandlordId,
    string HouseholdLandlordId,
    HouseholdStatus HouseholdStatus,
    bool HasMembership,
    DateTimeOffset? MembershipLeftAt,
    FederationStatus? AgreementStatus,
    DateTimeOffset? AgreementEndedAt);

/// <summary>
/// The one rule of who belongs to a club now, used by eligibility checks, the eligibility stream and redemptions.
/// A household is eligible in a club when its landlord hosts the club or has an agreement with it that is active
/// at that instant (accepted, not ended), and the household opted into the club (a membership it has not left)
/// and is active (has not left its landlord). Nothing is cached: leaving (a household marked as left, a membership
/// dropped, an agreement or its notice running out) takes effect on the next check.
/// </summary>
public static class ClubEligibility
{
    /// <summary>Whether the household is an eligible member of the club at <paramref name="instant"/>.</summary>
    public static bool IsEligible(ClubMemberFacts facts, DateTimeOffset instant) =>
        facts.HasMembership && facts.MembershipLeftAt is null && IsClubTenant(facts, instant);

    /// <summary>
    /// Whether the household is an active tenant of a landlord taking part in the club at <paramref name="instant"/>
    /// (its host, or a landlord with an agreement in force), opted in or not: who an offer that is not members-only is
    /// open to. A household of any other landlord is no concern of the club's partners.
    /// </summary>
    public static bool IsClubTenant(ClubMemberFacts facts, DateTimeOffset instant) =>
        facts.HouseholdStatus == HouseholdStatus.Active
        && (facts.HouseholdLandlordId == facts.HostLandlordId
            || (facts.AgreementStatus is { } status && FederationRules.IsActiveAt(status, facts.AgreementEndedAt, instant)));
}
