using HlmHub.Domain;
using HlmHub.Storage.Configuration;
using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations;

/// <summary>
/// The business tables: landlords, rosters, clubs, federation, partners, contracts, offers, redemptions,
/// statements and the ledger, with the database half of their invariants (unique and partial unique indexes,
/// append-only ledger triggers, immutable redeemed offer versions). Column types are left to the provider: the
/// CLR type and length are enough (Guid, instant and money columns follow the converters in Conversions/).
/// </summary>
[DbContext(typeof(HlmHubDbContext))]
[Migration("20261122200000_Domain")]
internal sealed class DomainTables : Migration
{
    private const int Slug = Limits.SlugMaxLength;
    private const int EnumName = ColumnLengths.EnumName;

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        var restrict = ReferentialAction.Restrict;

        migrationBuilder.CreateTable(
            name: "Landlords",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Slug, nullable: false),
                Name = table.Column<string>(maxLength: Limits.NameMaxLength, nullable: false),
                Siren = table.Column<string>(maxLength: ColumnLengths.Siren, nullable: false),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Landlords", row => row.Id));

        migrationBuilder.CreateTable(
            name: "Partners",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Slug, nullable: false),
                Name = table.Column<string>(maxLength: Limits.NameMaxLength, nullable: false),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
                Trade = table.Column<string>(maxLength: Limits.TradeMaxLength, nullable: true),
                Siret = table.Column<string>(maxLength: ColumnLengths.Siret, nullable: false),
                InQpv = table.Column<bool>(nullable: false),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Partners", row => row.Id));

        migrationBuilder.CreateTable(
            name: "Clubs",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Slug, nullable: false),
                Name = table.Column<string>(maxLength: Limits.NameMaxLength, nullable: false),
                HostLandlordId = table.Column<string>(maxLength: Slug, nullable: false),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
                MonthlySubscription = table.Column<long>(nullable: true),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Clubs", row => row.Id);
                table.ForeignKey("FK_Clubs_Landlords_HostLandlordId", row => row.HostLandlordId, "Landlords", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Households",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                LandlordId = table.Column<string>(maxLength: Slug, nullable: false),
                LandlordReference = table.Column<string>(maxLength: Limits.LandlordReferenceMaxLength, nullable: false),
                MemberToken = table.Column<string>(maxLength: Limits.MemberTokenMaxLength, nullable: false),
                Rooms = table.Column<int>(nullable: false),
                InQpv = table.Column<bool>(nullable: false),
                Status = table.Column<string>(maxLength: EnumName, nullable: false),
                Version = table.Column<long>(nullable: false),
                UpdatedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Households", row => row.Id);
                table.ForeignKey("FK_Households_Landlords_LandlordId", row => row.LandlordId, "Landlords", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Contracts",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Slug, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                PartnerId = table.Column<string>(maxLength: Slug, nullable: false),
                Trade = table.Column<string>(maxLength: Limits.TradeMaxLength, nullable: true),
                YearlyFee = table.Column<long>(nullable: false),
                StartDate = table.Column<DateOnly>(nullable: false),
                EndDate = table.Column<DateOnly>(nullable: true),
                Status = table.Column<string>(maxLength: EnumName, nullable: false),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Contracts", row => row.Id);
                table.ForeignKey("FK_Contracts_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_Contracts_Partners_PartnerId", row => row.PartnerId, "Partners", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "FederationAgreements",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                LandlordId = table.Column<string>(maxLength: Slug, nullable: false),
                Status = table.Column<string>(maxLength: EnumName, nullable: false),
                ProposedByLandlordId = table.Column<string>(maxLength: Slug, nullable: false),
                ProposedAt = table.Column<long>(nullable: false),
                AcceptedAt = table.Column<long>(nullable: true),
                EndedAt = table.Column<long>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_FederationAgreements", row => row.Id);
                table.ForeignKey("FK_FederationAgreements_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_FederationAgreements_Landlords_LandlordId", row => row.LandlordId, "Landlords", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Memberships",
            columns: table => new
            {
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                HouseholdId = table.Column<Guid>(nullable: false),
                JoinedAt = table.Column<long>(nullable: false),
                LeftAt = table.Column<long>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Memberships", row => new { row.ClubId, row.HouseholdId });
                table.ForeignKey("FK_Memberships_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_Memberships_Households_HouseholdId", row => row.HouseholdId, "Households", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Offers",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Slug, nullable: false),
                ContractId = table.Column<string>(maxLength: Slug, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                PartnerId = table.Column<string>(maxLength: Slug, nullable: false),
                Title = table.Column<string>(maxLength: Limits.NameMaxLength, nullable: false),
                CurrentVersion = table.Column<int>(nullable: false),
                WithdrawnAt = table.Column<long>(nullable: true),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Offers", row => row.Id);
                table.ForeignKey("FK_Offers_Contracts_ContractId", row => row.ContractId, "Contracts", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "OfferVersions",
            columns: table => new
            {
                OfferId = table.Column<string>(maxLength: Slug, nullable: false),
                Version = table.Column<int>(nullable: false),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
                FixedDiscount = table.Column<long>(nullable: true),
                PercentBasisPoints = table.Column<int>(nullable: true),
                PercentCap = table.Column<long>(nullable: true),
                RoomTariffs = table.Column<string>(maxLength: ColumnLengths.RoomTariffs, nullable: false),
                ServicePrice = table.Column<long>(nullable: true),
                ValidFrom = table.Column<long>(nullable: false),
                ValidUntil = table.Column<long>(nullable: true),
                CapCountPerPeriod = table.Column<int>(nullable: true),
                CapAmountPerPeriod = table.Column<long>(nullable: true),
                MembersOnly = table.Column<bool>(nullable: false),
                MinRooms = table.Column<int>(nullable: true),
                MaxRooms = table.Column<int>(nullable: true),
                QpvOnly = table.Column<bool>(nullable: false),
                ClubFundedBasisPoints = table.Column<int>(nullable: false),
                CreatedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_OfferVersions", row => new { row.OfferId, row.Version });
                table.ForeignKey("FK_OfferVersions_Offers_OfferId", row => row.OfferId, "Offers", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Redemptions",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                PartnerId = table.Column<string>(maxLength: Slug, nullable: false),
                PartnerEventId = table.Column<string>(maxLength: Limits.PartnerEventIdMaxLength, nullable: false),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: true),
                OfferId = table.Column<string>(maxLength: Slug, nullable: true),
                OfferVersion = table.Column<int>(nullable: true),
                MemberToken = table.Column<string>(maxLength: Limits.MemberTokenMaxLength, nullable: false),
                HouseholdId = table.Column<Guid>(nullable: true),
                OccurredAt = table.Column<long>(nullable: false),
                ReceivedAt = table.Column<long>(nullable: false),
                Period = table.Column<int>(nullable: false),
                PurchaseAmount = table.Column<long>(nullable: false),
                ClaimedDiscount = table.Column<long>(nullable: false),
                ComputedDiscount = table.Column<long>(nullable: false),
                Outcome = table.Column<string>(maxLength: EnumName, nullable: false),
                RejectionReason = table.Column<string>(maxLength: EnumName, nullable: true),
                CancelsRedemptionId = table.Column<Guid>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Redemptions", row => row.Id);
                table.ForeignKey("FK_Redemptions_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_Redemptions_Households_HouseholdId", row => row.HouseholdId, "Households", "Id", onDelete: restrict);
                table.ForeignKey(
                    "FK_Redemptions_OfferVersions_OfferId_OfferVersion",
                    row => new { row.OfferId, row.OfferVersion },
                    "OfferVersions",
                    ["OfferId", "Version"],
                    onDelete: restrict);
                table.ForeignKey("FK_Redemptions_Partners_PartnerId", row => row.PartnerId, "Partners", "Id", onDelete: restrict);
                table.ForeignKey("FK_Redemptions_Redemptions_CancelsRedemptionId", row => row.CancelsRedemptionId, "Redemptions", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "Statements",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                PartnerId = table.Column<string>(maxLength: Slug, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                Period = table.Column<int>(nullable: false),
                Revision = table.Column<int>(nullable: false),
                SubmittedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Statements", row => row.Id);
                table.ForeignKey("FK_Statements_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_Statements_Partners_PartnerId", row => row.PartnerId, "Partners", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "StatementLines",
            columns: table => new
            {
                StatementId = table.Column<Guid>(nullable: false),
                OfferId = table.Column<string>(maxLength: Slug, nullable: false),
                RedemptionCount = table.Column<int>(nullable: false),
                PurchaseTotal = table.Column<long>(nullable: false),
                DiscountTotal = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_StatementLines", row => new { row.StatementId, row.OfferId });
                table.ForeignKey("FK_StatementLines_Statements_StatementId", row => row.StatementId, "Statements", "Id", onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "StatementEvents",
            columns: table => new
            {
                StatementId = table.Column<Guid>(nullable: false),
                PartnerEventId = table.Column<string>(maxLength: Limits.PartnerEventIdMaxLength, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_StatementEvents", row => new { row.StatementId, row.PartnerEventId });
                table.ForeignKey("FK_StatementEvents_Statements_StatementId", row => row.StatementId, "Statements", "Id", onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "LedgerAccounts",
            columns: table => new
            {
                Id = table.Column<string>(maxLength: Limits.LedgerAccountIdMaxLength, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                PartnerId = table.Column<string>(maxLength: Slug, nullable: true),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_LedgerAccounts", row => row.Id);
                table.ForeignKey("FK_LedgerAccounts_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey("FK_LedgerAccounts_Partners_PartnerId", row => row.PartnerId, "Partners", "Id", onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "LedgerTransactions",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                IdempotencyKey = table.Column<string>(maxLength: Limits.IdempotencyKeyMaxLength, nullable: false),
                ClubId = table.Column<string>(maxLength: Slug, nullable: false),
                Kind = table.Column<string>(maxLength: EnumName, nullable: false),
                Period = table.Column<int>(nullable: false),
                Description = table.Column<string>(maxLength: Limits.DescriptionMaxLength, nullable: false),
                OccurredAt = table.Column<long>(nullable: false),
                RecordedAt = table.Column<long>(nullable: false),
                ReversesTransactionId = table.Column<Guid>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_LedgerTransactions", row => row.Id);
                table.ForeignKey("FK_LedgerTransactions_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: restrict);
                table.ForeignKey(
                    "FK_LedgerTransactions_LedgerTransactions_ReversesTransactionId",
                    row => row.ReversesTransactionId,
                    "LedgerTransactions",
                    "Id",
                    onDelete: restrict);
            });

        migrationBuilder.CreateTable(
            name: "LedgerEntries",
            columns: table => new
            {
                TransactionId = table.Column<Guid>(nullable: false),
                Line = table.Column<int>(nullable: false),
                AccountId = table.Column<string>(maxLength: Limits.LedgerAccountIdMaxLength, nullable: false),
                Side = table.Column<string>(maxLength: EnumName, nullable: false),
                Amount = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_LedgerEntries", row => new { row.TransactionId, row.Line });
                table.ForeignKey("FK_LedgerEntries_LedgerAccounts_AccountId", row => row.AccountId, "LedgerAccounts", "Id", onDelete: restrict);
                table.ForeignKey("FK_LedgerEntries_LedgerTransactions_TransactionId", row => row.TransactionId, "LedgerTransactions", "Id", onDelete: restrict);
            });

        CreateIndexes(migrationBuilder);

        // The database half of the invariants that an index cannot express (see Providers/).
        var provider = StorageProviderAdapter.For(migrationBuilder);
        provider.CreateAppendOnlyTriggers(migrationBuilder, "LedgerTransactions");
        provider.CreateAppendOnlyTriggers(migrationBuilder, "LedgerEntries");
        provider.CreateImmutableOnceReferencedTrigger(
            migrationBuilder, "OfferVersions", ["OfferId", "Version"], "Redemptions", ["OfferId", "OfferVersion"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        var provider = StorageProviderAdapter.For(migrationBuilder);
        provider.DropImmutableOnceReferencedTrigger(migrationBuilder, "OfferVersions");
        provider.DropAppendOnlyTriggers(migrationBuilder, "LedgerEntries");
        provider.DropAppendOnlyTriggers(migrationBuilder, "LedgerTransactions");
        foreach (var table in new[]
        {
            "LedgerEntries", "LedgerTransactions", "LedgerAccounts", "StatementEvents", "StatementLines", "Statements",
            "Redemptions", "OfferVersions", "Offers", "Memberships", "FederationAgreements", "Contracts", "Households",
            "Clubs", "Partners", "Landlords",
        })
        {
            migrationBuilder.DropTable(table);
        }
    }

    private static void CreateIndexes(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateIndex("IX_Clubs_HostLandlordId", "Clubs", "HostLandlordId");
        migrationBuilder.CreateIndex("IX_Contracts_PartnerId", "Contracts", "PartnerId");
        migrationBuilder.CreateIndex(
            IndexNames.OneActiveBuildingTradePerClub, "Contracts", ["ClubId", "Trade"], unique: true, filter: IndexFilters.ActiveBuildingTrade);
        migrationBuilder.CreateIndex(
            "IX_FederationAgreements_ClubId_LandlordId", "FederationAgreements", ["ClubId", "LandlordId"], unique: true,
            filter: IndexFilters.FederationNotEnded);
        migrationBuilder.CreateIndex("IX_FederationAgreements_LandlordId", "FederationAgreements", "LandlordId");
        migrationBuilder.CreateIndex("IX_Households_LandlordId_LandlordReference", "Households", ["LandlordId", "LandlordReference"], unique: true);
        migrationBuilder.CreateIndex("IX_Households_MemberToken", "Households", "MemberToken", unique: true);
        migrationBuilder.CreateIndex("IX_Landlords_Siren", "Landlords", "Siren", unique: true);
        migrationBuilder.CreateIndex("IX_LedgerAccounts_ClubId", "LedgerAccounts", "ClubId");
        migrationBuilder.CreateIndex("IX_LedgerAccounts_PartnerId", "LedgerAccounts", "PartnerId");
        migrationBuilder.CreateIndex("IX_LedgerEntries_AccountId", "LedgerEntries", "AccountId");
        migrationBuilder.CreateIndex("IX_LedgerTransactions_ClubId_Period", "LedgerTransactions", ["ClubId", "Period"]);
        migrationBuilder.CreateIndex("IX_LedgerTransactions_ReversesTransactionId", "LedgerTransactions", "ReversesTransactionId");
        migrationBuilder.CreateIndex(IndexNames.OneLedgerTransactionPerIdempotencyKey, "LedgerTransactions", "IdempotencyKey", unique: true);
        migrationBuilder.CreateIndex("IX_Memberships_HouseholdId", "Memberships", "HouseholdId");
        migrationBuilder.CreateIndex("IX_Offers_ClubId", "Offers", "ClubId");
        migrationBuilder.CreateIndex("IX_Offers_ContractId", "Offers", "ContractId");
        migrationBuilder.CreateIndex("IX_Offers_PartnerId", "Offers", "PartnerId");
        migrationBuilder.CreateIndex("IX_Partners_Siret", "Partners", "Siret", unique: true);
        migrationBuilder.CreateIndex(
            "IX_Redemptions_CancelsRedemptionId", "Redemptions", "CancelsRedemptionId", unique: true, filter: IndexFilters.IsCancellation);
        migrationBuilder.CreateIndex("IX_Redemptions_ClubId_Period", "Redemptions", ["ClubId", "Period"]);
        migrationBuilder.CreateIndex("IX_Redemptions_HouseholdId_OfferId_Period", "Redemptions", ["HouseholdId", "OfferId", "Period"]);
        migrationBuilder.CreateIndex("IX_Redemptions_OfferId_OfferVersion", "Redemptions", ["OfferId", "OfferVersion"]);
        migrationBuilder.CreateIndex(IndexNames.OneRedemptionPerPartnerEvent, "Redemptions", ["PartnerId", "PartnerEventId"], unique: true);
        migrationBuilder.CreateIndex("IX_Statements_ClubId_Period", "Statements", ["ClubId", "Period"]);
        migrationBuilder.CreateIndex(
            "IX_Statements_PartnerId_ClubId_Period_Revision", "Statements", ["PartnerId", "ClubId", "Period", "Revision"], unique: true);
    }
}
