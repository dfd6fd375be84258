using System.Data.Common;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace HlmHub.Storage.Tests;

/// <summary>
/// SQL Server, verified without a SQL Server (none can run on this machine): the model builds on the provider, the
/// idempotent script a DBA applies is valid T-SQL (parsed with Microsoft's own T-SQL parser, including every trigger
/// body inside its EXEC) and carries every invariant, and the SQL EF Core sends for a ledger write suits the
/// triggers. What only a live server shows (triggers firing, locking) runs in the storage suite when
/// HLMHUB_TEST_SQLSERVER is set (docs/storage.md).
/// </summary>
public sealed class SqlServerScriptTests
{
    private static readonly Lazy<ParsedScript> Script = new(() => ParsedScript.Parse(OfflineContext.IdempotentScript(StorageProvider.SqlServer)));

    /// <summary>
    /// The DBA's script, run with classic sqlcmd: every session starts with QUOTED_IDENTIFIER OFF unless it is given
    /// -I, and "Side" is then a string, not a column. The script sets it ON in a batch of its own, so it holds from
    /// the next batch on, whatever the tool, as SQL Server compiles each batch with the setting in force when it arrives.
    /// </summary>
    [Fact]
    public void IdempotentScript_RunWithQuotedIdentifiersOff_SetsThemOnFirst_SoChecksAndFiltersNameColumns()
    {
        var script = OfflineContext.IdempotentScript(StorageProvider.SqlServer);

        Assert.Equal("SET QUOTED_IDENTIFIER ON;", OfflineContext.Batches(script).First().Trim());
        var underSqlcmd = ParsedScript.Parse(script, initialQuotedIdentifiers: false);
        Assert.True(underSqlcmd.Errors.Count == 0, string.Join("\n", underSqlcmd.Errors));
        Assert.True(underSqlcmd.ExecBodyErrors.Count == 0, string.Join("\n", underSqlcmd.ExecBodyErrors));
        Assert.Equal(3, underSqlcmd.CheckConstraints.Count);
        Assert.All(underSqlcmd.CheckConstraintColumns, check => Assert.True(check.Value > 0, $"{check.Key} names no column"));
        var filtered = underSqlcmd.Indexes.Where(index => index.Filtered).ToList();
        Assert.Contains(filtered, index => index.Name == "IX_OpenIddictApplications_ClientId");
        Assert.All(filtered, index => Assert.True(index.FilterColumns > 0, $"{index.Name}'s filter names no column"));

        // What sqlcmd without -I did before the script set it: the checks compared string literals, and the filters
        // with double-quoted names are not even valid (a filter must compare columns).
        var withoutTheSet = ParsedScript.Parse(string.Join("\nGO\n", OfflineContext.Batches(script).Skip(1)), initialQuotedIdentifiers: false);
        Assert.Equal(0, withoutTheSet.CheckConstraintColumns["CK_LedgerEntries_SideValid"]);
        Assert.Contains(withoutTheSet.ExecBodyErrors, error => error.Contains("\"Status\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Model_BuildsAndValidatesOnSqlServer()
    {
        using var context = OfflineContext.Create(StorageProvider.SqlServer);

        var createScript = context.Database.GenerateCreateScript();

        Assert.Contains("CREATE TABLE [LedgerEntries]", createScript, StringComparison.Ordinal);
        // Partners' event ids differ by case only if they say so: a binary collation on SQL Server, whose usual one ignores case.
        Assert.Contains("[PartnerEventId] nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL", createScript, StringComparison.Ordinal);
    }

    /// <summary>
    /// Identifiers the hub looks up in SQL, then matches ordinally in memory (a roster batch keys its households by
    /// reference; OpenIddict compares client ids ordinally after its query): on SQL Server's usual collation the query
    /// and the unique index matched `A-1` with `a-1` where the code did not, and a roster batch inserted a household
    /// it had just found, which the index refused, rolling back the whole transaction.
    /// </summary>
    [Theory]
    [InlineData("Households", "LandlordReference")]
    [InlineData("OpenIddictApplications", "ClientId")]
    public void CreateScript_GivesAnIdentifierMatchedOrdinallyInMemory_TheBinaryCollation(string table, string column)
    {
        using var context = OfflineContext.Create(StorageProvider.SqlServer);

        var created = ParsedScript.Parse(context.Database.GenerateCreateScript());

        Assert.True(created.Errors.Count == 0, string.Join("\n", created.Errors));
        Assert.Equal("Latin1_General_100_BIN2", created.ColumnCollations[(table, column)]);
    }

    /// <summary>
    /// A database made before: the migration gives the column the binary collation, and, since SQL Server refuses to
    /// change the collation of a column an index uses, drops that unique index first and creates it again after.
    /// </summary>
    [Theory]
    [InlineData("Households", "LandlordReference", "IX_Households_LandlordId_LandlordReference")]
    [InlineData("OpenIddictApplications", "ClientId", "IX_OpenIddictApplications_ClientId")]
    public void IdempotentScript_ChangesAnIndexedIdentifierToTheBinaryCollation_BetweenDroppingAndRecreatingItsIndex(string table, string column, string index)
    {
        var steps = Script.Value.Steps;

        var altered = steps.FindIndex(step => step == new Step("alter column", table, column, "Latin1_General_100_BIN2"));
        Assert.True(altered >= 0, $"no ALTER COLUMN giving [{table}].[{column}] the binary collation");
        Assert.Equal(new Step("drop index", table, index, null), steps[..altered].LastOrDefault(step => step.Name == index));
        Assert.Equal(new Step("create unique index", table, index, null), steps[(altered + 1)..].FirstOrDefault(step => step.Name == index));
    }

    [Fact]
    public void IdempotentScript_IsValidTSql_IncludingEveryStatementRunThroughExec()
    {
        var script = Script.Value;

        Assert.True(script.Errors.Count == 0, string.Join("\n", script.Errors));
        Assert.NotEmpty(script.ExecBodies);
        Assert.True(script.ExecBodyErrors.Count == 0, string.Join("\n", script.ExecBodyErrors));
    }

    [Theory]
    [InlineData("TR_LedgerEntries_AppendOnly", "LedgerEntries", "Update,Delete")]
    [InlineData("TR_LedgerTransactions_AppendOnly", "LedgerTransactions", "Update,Delete")]
    [InlineData("TR_PeriodClosures_AppendOnly", "PeriodClosures", "Update,Delete")]
    [InlineData("TR_LedgerEntries_Balanced", "LedgerEntries", "Insert")]
    [InlineData("TR_LedgerTransactions_OpenPeriodOnly", "LedgerTransactions", "Insert")]
    [InlineData("TR_OfferVersions_ImmutableOnceRedeemed", "OfferVersions", "Update,Delete")]
    public void IdempotentScript_CreatesEachGuardTrigger_OnItsTableForItsStatements(string trigger, string table, string actions)
    {
        var created = Script.Value.Triggers.SingleOrDefault(item => item.Name == trigger);

        Assert.NotNull(created);
        Assert.Equal(table, created.Table);
        Assert.Equal(actions, created.Actions);
        // Every guard raises an error that rolls the statement back.
        Assert.Contains("THROW", created.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void IdempotentScript_CarriesTheCheckConstraints()
    {
        var checks = Script.Value.CheckConstraints;

        Assert.Equal("\"Amount\" > 0", checks["CK_LedgerEntries_AmountPositive"]);
        Assert.Equal("\"Side\" IN ('Debit', 'Credit')", checks["CK_LedgerEntries_SideValid"]);
        Assert.Equal("\"Rooms\" BETWEEN 1 AND 7", checks["CK_Households_RoomsInRange"]);
    }

    [Theory]
    [InlineData("UX_Contracts_ActiveBuildingTrade", true)]
    [InlineData("IX_FederationAgreements_ClubId_LandlordId", true)]
    [InlineData("IX_Redemptions_CancelsRedemptionId", true)]
    [InlineData("UX_Redemptions_PartnerEvent", false)]
    [InlineData("UX_LedgerTransactions_IdempotencyKey", false)]
    [InlineData("IX_Households_MemberToken", false)]
    public void IdempotentScript_CreatesTheUniqueIndexes_FilteredWhereTheRuleIsPartial(string index, bool filtered)
    {
        var created = Script.Value.Indexes.SingleOrDefault(item => item.Name == index);

        Assert.NotNull(created);
        Assert.True(created.Unique);
        Assert.Equal(filtered, created.Filtered);
    }

    [Fact]
    public void LedgerWrite_IsOnePlainInsertPerTable_WithNoOutputClause_SoTheTriggersAcceptIt()
    {
        var capture = new CommandCapture();
        var options = new DbContextOptionsBuilder<HlmHubDbContext>(HlmHubDbContextOptions.Create(
            StorageProvider.SqlServer, "Server=offline.invalid;Database=offline;TrustServerCertificate=true"));
        options.AddInterceptors(capture);
        using var context = new HlmHubDbContext(options.Options);
        context.Database.AutoTransactionBehavior = AutoTransactionBehavior.Never;
        var data = new SampleWorld();
        var transaction = data.FeeAccrual("fee:" + data.Suffix);
        context.Add(transaction);

        var error = Assert.Throws<DbUpdateException>(() => context.SaveChanges());
        Assert.IsType<CommandCapture.CapturedException>(error.InnerException);

        var sql = Assert.Single(capture.Commands);
        Assert.DoesNotContain("OUTPUT", sql, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("MERGE", sql, StringComparison.OrdinalIgnoreCase);
        var parsed = ParsedScript.Parse(sql);
        Assert.True(parsed.Errors.Count == 0, string.Join("\n", parsed.Errors));
        // The balance trigger checks at the end of each INSERT statement: all of a transaction's entries are in one.
        var entries = Assert.Single(parsed.Inserts, insert => insert.Table == "LedgerEntries");
        Assert.Equal(transaction.Entries.Count, entries.Rows);
        Assert.Single(parsed.Inserts, insert => insert.Table == "LedgerTransactions");
    }

    /// <summary>
    /// The club's month lock on SQL Server (RowLocks: a close excludes the bookings of its club) is an application lock
    /// owned by the transaction, one per club, whose refusal (time-out, deadlock victim) is thrown as an error the hub
    /// reads as transient. Parsed offline only: that the locks exclude each other is not run here (docs/storage.md).
    /// </summary>
    [Theory]
    [InlineData(1, "Exclusive")]
    [InlineData(3, "Shared")]
    public void ClubMonthLock_IsValidTSql_OneTransactionOwnedApplicationLockPerClub(int clubs, string mode)
    {
        var sql = Providers.SqlServerProviderAdapter.ClubLockSql(clubs, mode);

        var parsed = ParsedScript.Parse(sql);
        Assert.True(parsed.Errors.Count == 0, string.Join("\n", parsed.Errors));
        Assert.Equal(clubs, System.Text.RegularExpressions.Regex.Count(
            sql, $@"EXEC @granted = sp_getapplock @Resource = @club\d, @LockMode = N'{mode}', @LockOwner = N'Transaction';"));
        Assert.Equal(clubs, System.Text.RegularExpressions.Regex.Count(sql, @"IF @granted < 0 THROW 51003, "));
    }

    /// <summary>Captures the SQL of SaveChanges without a server: the connection is never opened, no command runs.</summary>
    private sealed class CommandCapture : DbCommandInterceptor, IDbConnectionInterceptor
    {
        public List<string> Commands { get; } = [];

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
            throw Capture(command);

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
            throw Capture(command);

        public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
            throw Capture(command);

        public InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
            InterceptionResult.Suppress();

        private CapturedException Capture(DbCommand command)
        {
            Commands.Add(command.CommandText);
            return new CapturedException();
        }

        public sealed class CapturedException : Exception;
    }

    private sealed record Trigger(string Name, string Table, string Actions, string Body);

    /// <summary>An index; <paramref name="FilterColumns"/> counts the column references in its filter.</summary>
    private sealed record Index(string Name, bool Unique, bool Filtered, int FilterColumns);

    private sealed record Insert(string Table, int Rows);

    /// <summary>A schema statement, in script order: what it does, on which table, to which column or index, with which collation.</summary>
    private sealed record Step(string Kind, string Table, string Name, string? Collation);

    /// <summary>What ScriptDom finds in a T-SQL script, and in each string it runs through EXEC.</summary>
    private sealed class ParsedScript : TSqlFragmentVisitor
    {
        public List<string> Errors { get; } = [];

        public List<string> ExecBodies { get; } = [];

        public List<string> ExecBodyErrors { get; } = [];

        public List<Trigger> Triggers { get; } = [];

        public List<Index> Indexes { get; } = [];

        public List<Insert> Inserts { get; } = [];

        public Dictionary<string, string> CheckConstraints { get; } = [];

        /// <summary>How many column references each check constraint's condition holds (none: it compares literals).</summary>
        public Dictionary<string, int> CheckConstraintColumns { get; } = [];

        /// <summary>Each created table's text columns and their collation (null: the database's).</summary>
        public Dictionary<(string Table, string Column), string?> ColumnCollations { get; } = [];

        /// <summary>Column alterations and index drops and creations, in script order.</summary>
        public List<Step> Steps { get; } = [];

        /// <summary>Whether double quotes delimit identifiers in the batch parsed next (SET QUOTED_IDENTIFIER).</summary>
        private bool _quotedIdentifiers;

        /// <summary>
        /// Parses <paramref name="script"/> one batch at a time, as a server runs it: a batch is compiled with the
        /// quoted-identifier setting in force when it arrives (<paramref name="initialQuotedIdentifiers"/>: the tool's,
        /// on in SSMS and the drivers, off in sqlcmd without -I), and a SET QUOTED_IDENTIFIER applies from the next batch
        /// and to the strings run through EXEC after it.
        /// </summary>
        public static ParsedScript Parse(string script, bool initialQuotedIdentifiers = true)
        {
            var result = new ParsedScript { _quotedIdentifiers = initialQuotedIdentifiers };
            foreach (var batch in OfflineContext.Batches(script))
            {
                result.ParseInto(batch, result.Errors);
            }

            return result;
        }

        public override void ExplicitVisit(PredicateSetStatement node)
        {
            if (node.Options.HasFlag(SetOptions.QuotedIdentifier))
            {
                _quotedIdentifiers = node.IsOn;
            }
        }

        public override void ExplicitVisit(ExecutableStringList node)
        {
            // One statement, even when concatenated with a variable: EF Core's ALTER COLUMN drops a column's default
            // constraint by a name it reads first, EXEC(N'ALTER TABLE [T] DROP CONSTRAINT [' + @var + '];'). The
            // variable stands as a name here; its pieces alone are not statements.
            var body = string.Concat(node.Strings.Select(part => part is StringLiteral literal ? literal.Value : "variable_value"));
            ExecBodies.Add(body);
            ParseInto(body, ExecBodyErrors);
        }

        public override void ExplicitVisit(CreateTriggerStatement node)
        {
            var actions = string.Join(",", node.TriggerActions.Select(action => action.TriggerActionType.ToString()));
            Triggers.Add(new Trigger(node.Name.BaseIdentifier.Value, node.TriggerObject.Name.BaseIdentifier.Value, actions, Text(node)));
        }

        public override void ExplicitVisit(CreateIndexStatement node)
        {
            Indexes.Add(new Index(node.Name.Value, node.Unique, node.FilterPredicate is not null, ColumnReferences.Count(node.FilterPredicate)));
            Steps.Add(new Step(node.Unique ? "create unique index" : "create index", node.OnName.BaseIdentifier.Value, node.Name.Value, null));
        }

        public override void ExplicitVisit(CreateTableStatement node)
        {
            foreach (var column in node.Definition.ColumnDefinitions)
            {
                ColumnCollations[(node.SchemaObjectName.BaseIdentifier.Value, column.ColumnIdentifier.Value)] = column.Collation?.Value;
            }

            // On into the table's constraints (the check constraints above).
            base.ExplicitVisit(node);
        }

        public override void ExplicitVisit(AlterTableAlterColumnStatement node) =>
            Steps.Add(new Step("alter column", node.SchemaObjectName.BaseIdentifier.Value, node.ColumnIdentifier.Value, node.Collation?.Value));

        public override void ExplicitVisit(DropIndexStatement node)
        {
            foreach (var clause in node.DropIndexClauses.OfType<DropIndexClause>())
            {
                Steps.Add(new Step("drop index", clause.Object.BaseIdentifier.Value, clause.Index.Value, null));
            }
        }

        public override void ExplicitVisit(CheckConstraintDefinition node)
        {
            CheckConstraints[node.ConstraintIdentifier.Value] = Text(node.CheckCondition);
            CheckConstraintColumns[node.ConstraintIdentifier.Value] = ColumnReferences.Count(node.CheckCondition);
        }

        public override void ExplicitVisit(InsertStatement node)
        {
            var table = ((NamedTableReference)node.InsertSpecification.Target).SchemaObject.BaseIdentifier.Value;
            var rows = node.InsertSpecification.InsertSource is ValuesInsertSource values ? values.RowValues.Count : 0;
            Inserts.Add(new Insert(table, rows));
        }

        private void ParseInto(string sql, List<string> errors)
        {
            var parser = new TSql160Parser(_quotedIdentifiers);
            var fragment = parser.Parse(new StringReader(sql), out var parseErrors);
            errors.AddRange(parseErrors.Select(error => $"line {error.Line}: {error.Message}"));
            fragment?.Accept(this);
        }

        /// <summary>Counts the column references in a fragment (a string literal where a column was meant is not one).</summary>
        private sealed class ColumnReferences : TSqlFragmentVisitor
        {
            private int _count;

            public static int Count(TSqlFragment? fragment)
            {
                var visitor = new ColumnReferences();
                fragment?.Accept(visitor);
                return visitor._count;
            }

            public override void Visit(ColumnReferenceExpression node) => _count++;
        }

        private static string Text(TSqlFragment fragment) =>
            string.Concat(Enumerable.Range(fragment.FirstTokenIndex, fragment.LastTokenIndex - fragment.FirstTokenIndex + 1)
                .Select(index => fragment.ScriptTokenStream[index].Text));
    }
}
