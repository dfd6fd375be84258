using HlmHub.Domain;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Configuration;

/// <summary>
/// PostgreSQL writes an updated row as a new version of it. When no indexed column changed and the row's page has room
/// for the new version, it stays on that page and no index is written: a heap-only ("HOT") update. Otherwise each of
/// the table's indexes gets a new entry. A roster delta changes the rooms or QPV flag of households spread over the
/// whole table, about one per page, and leaves their indexed columns alone (see <see cref="Household.StatusChangedAt"/>);
/// but after a full sync every page is filled to the brim, so none of those updates fits. Leaving part of each page of
/// the households free lets them (docs/benchmarks.md, the roster delta on PostgreSQL). SQLite and SQL Server do not
/// write a new version of an updated row, so the setting is PostgreSQL's only.
/// </summary>
internal static class HeapOnlyUpdates
{
    /// <summary>How full PostgreSQL fills a page of households when inserting, in percent (its default is 100).</summary>
    public const int HouseholdsFillFactor = 90;

    /// <summary>Sets the households table's fill factor; called for PostgreSQL models only.</summary>
    public static void ApplyForPostgres(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<Household>().HasStorageParameter("fillfactor", HouseholdsFillFactor);
}
