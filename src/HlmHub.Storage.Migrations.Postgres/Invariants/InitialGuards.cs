using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations.Postgres.Invariants;

/// <summary>
/// The PostgreSQL half of the invariants the Initial migration installs (docs/storage.md, "A ledger that every
/// database defends"). Shipped SQL: never edit it, add a new migration instead.
/// </summary>
internal static class InitialGuards
{
    private static readonly string[] AppendOnlyTables = ["LedgerTransactions", "LedgerEntries", "PeriodClosures"];

    public static void Create(MigrationBuilder migrationBuilder)
    {
        // Append-only: row triggers refuse UPDATE and DELETE; a statement trigger refuses TRUNCATE, which row
        // triggers never see.
        migrationBuilder.Sql(
            "CREATE FUNCTION \"FN_AppendOnly\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation'; END $$;");
        foreach (var table in AppendOnlyTables)
        {
            migrationBuilder.Sql(
                $"CREATE TRIGGER \"TR_{table}_AppendOnly\" BEFORE UPDATE OR DELETE ON \"{table}\" " +
                "FOR EACH ROW EXECUTE FUNCTION \"FN_AppendOnly\"();");
            migrationBuilder.Sql(
                $"CREATE TRIGGER \"TR_{table}_NoTruncate\" BEFORE TRUNCATE ON \"{table}\" " +
                "FOR EACH STATEMENT EXECUTE FUNCTION \"FN_AppendOnly\"();");
        }

        // A transaction's entries balance: deferred constraint triggers run at COMMIT, once every entry of the
        // transaction is written, whatever SQL wrote them. Both tables carry one, so a transaction inserted without
        // entries and an entry added later to a committed transaction are both refused.
        migrationBuilder.Sql(
            "CREATE FUNCTION \"FN_LedgerTransaction_Balanced\"() RETURNS trigger LANGUAGE plpgsql AS $$ " +
            "DECLARE transaction_id uuid; entry_count bigint; balance numeric; BEGIN " +
            "IF TG_TABLE_NAME = 'LedgerTransactions' THEN transaction_id := NEW.\"Id\"; ELSE transaction_id := NEW.\"TransactionId\"; END IF; " +
            "SELECT count(*), coalesce(sum(CASE WHEN \"Side\" = 'Debit' THEN \"Amount\" ELSE -\"Amount\" END), 0) " +
            "INTO entry_count, balance FROM \"LedgerEntries\" WHERE \"TransactionId\" = transaction_id; " +
            "IF entry_count < 2 OR balance <> 0 THEN RAISE EXCEPTION " +
            "'ledger transaction % does not balance: % entries, debits minus credits = % cents', transaction_id, entry_count, balance " +
            "USING ERRCODE = 'check_violation'; END IF; RETURN NULL; END $$;");
        migrationBuilder.Sql(
            "CREATE CONSTRAINT TRIGGER \"TR_LedgerEntries_Balanced\" AFTER INSERT ON \"LedgerEntries\" " +
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION \"FN_LedgerTransaction_Balanced\"();");
        migrationBuilder.Sql(
            "CREATE CONSTRAINT TRIGGER \"TR_LedgerTransactions_Balanced\" AFTER INSERT ON \"LedgerTransactions\" " +
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION \"FN_LedgerTransaction_Balanced\"();");

        // Nothing is booked into a closed month: late events are adjustments in the open month.
        migrationBuilder.Sql(
            "CREATE FUNCTION \"FN_LedgerTransactions_OpenPeriodOnly\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            "IF EXISTS (SELECT 1 FROM \"PeriodClosures\" WHERE \"ClubId\" = NEW.\"ClubId\" AND \"Period\" = NEW.\"Period\") THEN " +
            "RAISE EXCEPTION 'LedgerTransactions: period % is closed for club %; book it in the open month', NEW.\"Period\", NEW.\"ClubId\" " +
            "USING ERRCODE = 'restrict_violation'; END IF; RETURN NEW; END $$;");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerTransactions_OpenPeriodOnly\" BEFORE INSERT ON \"LedgerTransactions\" " +
            "FOR EACH ROW EXECUTE FUNCTION \"FN_LedgerTransactions_OpenPeriodOnly\"();");

        // A redeemed offer version is immutable: the redemption's discount was computed from it.
        migrationBuilder.Sql(
            "CREATE FUNCTION \"FN_OfferVersions_ImmutableOnceRedeemed\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            "IF EXISTS (SELECT 1 FROM \"Redemptions\" WHERE \"OfferId\" = OLD.\"OfferId\" AND \"OfferVersion\" = OLD.\"Version\") THEN " +
            "RAISE EXCEPTION 'OfferVersions row is referenced by Redemptions: % refused', TG_OP USING ERRCODE = 'restrict_violation'; END IF; " +
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$;");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_OfferVersions_ImmutableOnceRedeemed\" BEFORE UPDATE OR DELETE ON \"OfferVersions\" " +
            "FOR EACH ROW EXECUTE FUNCTION \"FN_OfferVersions_ImmutableOnceRedeemed\"();");
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        // Triggers go with their tables in Down(); the functions are dropped here, after the tables.
        foreach (var function in new[] { "FN_AppendOnly", "FN_LedgerTransaction_Balanced", "FN_LedgerTransactions_OpenPeriodOnly", "FN_OfferVersions_ImmutableOnceRedeemed" })
        {
            migrationBuilder.Sql($"DROP FUNCTION IF EXISTS \"{function}\"();");
        }
    }
}
