using HlmHub.Domain;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage;

/// <summary>
/// The queries an eligibility <c>Watch</c> poll runs, kept next to the indexes they rely on (Households.StatusChangedAt,
/// Memberships (ClubId, JoinedAt) and (ClubId, LeftAt)) so a storage test can check the plan uses them. A window
/// is (start exclusive, end inclusive].
/// </summary>
public static class WatchQueries
{
    /// <summary>
    /// The agreements of <paramref name="clubIds"/> accepted or reaching their end inside the window (including an
    /// end given with notice that only now falls inside it): every household of that landlord in that club may have
    /// changed. A handful of rows per club, read once per poll.
    /// </summary>
    public static IQueryable<ClubLandlord> ChangedAgreements(
        HlmHubDbContext db, IReadOnlyCollection<string> clubIds, (DateTimeOffset Start, DateTimeOffset End) window)
    {
        ArgumentNullException.ThrowIfNull(db);
        var (start, end) = window;
        return db.FederationAgreements.AsNoTracking()
            .Where(agreement => clubIds.Contains(agreement.ClubId)
                && ((agreement.AcceptedAt > start && agreement.AcceptedAt <= end) || (agreement.EndedAt > start && agreement.EndedAt <= end)))
            .Select(agreement => new ClubLandlord(agreement.ClubId, agreement.LandlordId));
    }

    /// <summary>
    /// One keyset page (<paramref name="pageSize"/> households after <paramref name="afterMemberToken"/>, in
    /// member-token order) of the households with a membership (current or past) in <paramref name="clubIds"/>;
    /// with a <paramref name="window"/>, only those whose eligibility may have changed inside it: the household's
    /// status (<see cref="Household.StatusChangedAt"/>: a change of rooms or QPV changes no eligibility), one of those
    /// memberships (joined or left), or its landlord's
    /// agreement with the club of one of them (one of <paramref name="changedAgreements"/>, from
    /// <see cref="ChangedAgreements"/>).
    /// </summary>
    public static IQueryable<Household> ChangedHouseholds(
        HlmHubDbContext db,
        IReadOnlyCollection<string> clubIds,
        (DateTimeOffset Start, DateTimeOffset End)? window,
        IReadOnlyCollection<ClubLandlord> changedAgreements,
        string? afterMemberToken,
        int pageSize)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(changedAgreements);
        var households = db.Households.AsNoTracking()
            .Where(household => db.Memberships.Any(membership => membership.HouseholdId == household.Id && clubIds.Contains(membership.ClubId)));
        if (window is var (start, end))
        {
            // A union of index range scans, then the households by primary key: an OR of correlated subqueries
            // would make the database visit every household of the clubs on each poll.
            var changedIds = db.Households
                .Where(household => household.StatusChangedAt > start && household.StatusChangedAt <= end)
                .Select(household => household.Id)
                .Union(db.Memberships
                    .Where(membership => clubIds.Contains(membership.ClubId) && membership.JoinedAt > start && membership.JoinedAt <= end)
                    .Select(membership => membership.HouseholdId))
                .Union(db.Memberships
                    .Where(membership => clubIds.Contains(membership.ClubId) && membership.LeftAt > start && membership.LeftAt <= end)
                    .Select(membership => membership.HouseholdId));
            // Rare (an agreement accepted or ended), and then every opt-in of that landlord into that club.
            foreach (var (clubId, landlordId) in changedAgreements)
            {
                changedIds = changedIds.Union(
                    from membership in db.Memberships
                    where membership.ClubId == clubId
                    join household in db.Households on membership.HouseholdId equals household.Id
                    where household.LandlordId == landlordId
                    select household.Id);
            }

            households = households.Where(household => changedIds.Contains(household.Id));
        }

        if (afterMemberToken is not null)
        {
            households = households.Where(household => string.Compare(household.MemberToken, afterMemberToken) > 0);
        }

        return households.OrderBy(household => household.MemberToken).Take(pageSize);
    }
}

/// <summary>A club and a neighbouring landlord: the two parties of a federation agreement.</summary>
public readonly record struct ClubLandlord(string ClubId, string LandlordId);
