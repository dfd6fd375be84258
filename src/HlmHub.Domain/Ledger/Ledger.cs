using System.Globalization;

namespace HlmHub.Domain.Ledger;

/// <summary>The accounts of a club's books (DESIGN.md §2).</summary>
public enum AccountKind
{
    /// <summary>Money received (asset).</summary>
    Bank,

    /// <summary>Fees a partner owes (asset, per partner).</summary>
    FeesReceivable,

    /// <summary>Partner fees earned (revenue).</summary>
    FeeRevenue,

    /// <summary>The club's share of co-funded discounts owed to a partner (liability, per partner).</summary>
    SubsidyPayable,

    /// <summary>The club's cost of co-funded discounts (expense).</summary>
    SubsidyExpense,

    /// <summary>Memo: value of discounts granted by a partner (per partner), balanced by <see cref="TenantSavings"/>.</summary>
    DiscountsGranted,

    /// <summary>Memo: value received by tenants.</summary>
    TenantSavings,
}

/// <summary>Which side of an account an entry is on.</summary>
public enum EntrySide
{
    /// <summary>Debit.</summary>
    Debit,

    /// <summary>Credit.</summary>
    Credit,
}

/// <summary>What produced a transaction.</summary>
public enum TransactionKind
{
    /// <summary>A yearly fee accrued for a contract.</summary>
    FeeAccrual,

    /// <summary>A fee payment received.</summary>
    FeePayment,

    /// <summary>An accepted redemption (memo value and any club subsidy).</summary>
    Redemption,

    /// <summary>A subsidy paid to a partner.</summary>
    SubsidySettlement,

    /// <summary>The reversal of an earlier transaction.</summary>
    Reversal,
}

/// <summary>An account of a club's books; its id is derived from the club, the partner and the kind.</summary>
public sealed class LedgerAccount
{
    private LedgerAccount()
    {
        Id = "";
        ClubId = "";
    }

    /// <summary>"{club}/{kind}" or "{club}/{partner}/{kind}", e.g. <c>plaine-commune/assur-hlm/fees-receivable</c>.</summary>
    public string Id { get; private set; }

    /// <summary>The club whose books hold the account.</summary>
    public string ClubId { get; private set; }

    /// <summary>The partner, for per-partner accounts.</summary>
    public string? PartnerId { get; private set; }

    /// <summary>The kind of account.</summary>
    public AccountKind Kind { get; private set; }

    /// <summary>The id of the account of <paramref name="clubId"/> (and <paramref name="partnerId"/>) of a kind.</summary>
    public static string IdFor(string clubId, AccountKind kind, string? partnerId = null)
    {
        var kindName = string.Concat(kind.ToString().Select((character, index) =>
            char.IsUpper(character) && index > 0 ? "-" + char.ToLowerInvariant(character) : char.ToLowerInvariant(character).ToString()));
        return partnerId is null ? $"{clubId}/{kindName}" : $"{clubId}/{partnerId}/{kindName}";
    }

    /// <summary>Creates the account.</summary>
    public static LedgerAccount Create(string clubId, AccountKind kind, string? partnerId = null) => new()
    {
        Id = IdFor(Require.Slug("clubId", clubId), Require.Defined("kind", kind), partnerId is null ? null : Require.Slug("partnerId", partnerId)),
        ClubId = clubId,
        PartnerId = partnerId,
        Kind = kind,
    };
}

/// <summary>One line of a transaction: an amount (always positive) on one side of one account.</summary>
public sealed class LedgerEntry
{
    private LedgerEntry()
    {
        AccountId = "";
    }

    /// <summary>The transaction.</summary>
    public Guid TransactionId { get; private set; }

    /// <summary>The line number within the transaction, from 1.</summary>
    public int Line { get; private set; }

    /// <summary>The account.</summary>
    public string AccountId { get; private set; }

    /// <summary>Debit or credit.</summary>
    public EntrySide Side { get; private set; }

    /// <summary>The amount, greater than zero.</summary>
    public Money Amount { get; private set; }

    internal static LedgerEntry Create(Guid transactionId, int line, string accountId, EntrySide side, Money amount) => new()
    {
        TransactionId = transactionId,
        Line = line,
        AccountId = Require.Text("entries.accountId", accountId, Limits.LedgerAccountIdMaxLength),
        Side = Require.Defined("entries.side", side),
        Amount = Require.Positive("entries.amount", amount),
    };
}

/// <summary>An entry to post: an amount on one side of an account.</summary>
public readonly record struct Posting(string AccountId, EntrySide Side, Money Amount)
{
    /// <summary>A debit.</summary>
    public static Posting Debit(string accountId, Money amount) => new(accountId, EntrySide.Debit, amount);

    /// <summary>A credit.</summary>
    public static Posting Credit(string accountId, Money amount) => new(accountId, EntrySide.Credit, amount);
}

/// <summary>
/// A double-entry transaction: balanced entries (debits = credits), an idempotency key derived from its source
/// so the same source is never booked twice, and no updates ever: a correction is a reversal.
/// </summary>
public sealed class LedgerTransaction
{
    private readonly List<LedgerEntry> _entries = [];

    private LedgerTransaction()
    {
        IdempotencyKey = "";
        ClubId = "";
        Description = "";
    }

    /// <summary>The id.</summary>
    public Guid Id { get; private set; }

    /// <summary>Unique across the ledger; see <see cref="IdempotencyKeys"/>.</summary>
    public string IdempotencyKey { get; private set; }

    /// <summary>The club whose books it is in.</summary>
    public string ClubId { get; private set; }

    /// <summary>What produced it.</summary>
    public TransactionKind Kind { get; private set; }

    /// <summary>The period it is booked in.</summary>
    public Period Period { get; private set; }

    /// <summary>A short description.</summary>
    public string Description { get; private set; }

    /// <summary>When the underlying event happened.</summary>
    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>When it was booked.</summary>
    public DateTimeOffset RecordedAt { get; private set; }

    /// <summary>For a reversal: the transaction reversed.</summary>
    public Guid? ReversesTransactionId { get; private set; }

    /// <summary>The entries, balanced.</summary>
    public IReadOnlyList<LedgerEntry> Entries => _entries;

    /// <summary>Validates (2 to <see cref="Limits.MaxEntriesPerTransaction"/> positive entries, balanced) and creates a transaction.</summary>
    public static LedgerTransaction Create(
        Guid id,
        string idempotencyKey,
        string clubId,
        TransactionKind kind,
        Period period,
        string description,
        DateTimeOffset occurredAt,
        DateTimeOffset recordedAt,
        IReadOnlyList<Posting> postings) =>
        Build(id, idempotencyKey, clubId, kind, period, description, occurredAt, recordedAt, postings, reverses: null);

    /// <summary>The reversal of this transaction: the same entries on the opposite sides, booked in <paramref name="period"/>.</summary>
    public LedgerTransaction Reverse(Guid id, Period period, string description, DateTimeOffset recordedAt)
    {
        if (Kind == TransactionKind.Reversal)
        {
            throw DomainException.Precondition("transactionId", "a reversal is not reversed: book a new transaction instead");
        }

        var postings = _entries
            .Select(entry => new Posting(entry.AccountId, entry.Side == EntrySide.Debit ? EntrySide.Credit : EntrySide.Debit, entry.Amount))
            .ToList();
        return Build(id, IdempotencyKeys.Reversal(IdempotencyKey), ClubId, TransactionKind.Reversal, period, description, recordedAt, recordedAt, postings, Id);
    }

    private static LedgerTransaction Build(
        Guid id,
        string idempotencyKey,
        string clubId,
        TransactionKind kind,
        Period period,
        string description,
        DateTimeOffset occurredAt,
        DateTimeOffset recordedAt,
        IReadOnlyList<Posting> postings,
        Guid? reverses)
    {
        ArgumentNullException.ThrowIfNull(postings);
        Require.InRange("entries", postings.Count, 2, Limits.MaxEntriesPerTransaction);
        foreach (var posting in postings)
        {
            Require.Positive("entries.amount", posting.Amount);
        }

        if (!LedgerRules.IsBalanced(postings.Select(posting => (posting.Side, posting.Amount))))
        {
            throw DomainException.Invalid("entries", "debits must equal credits");
        }

        var transaction = new LedgerTransaction
        {
            Id = Require.NotEmpty("id", id),
            IdempotencyKey = Require.Text("idempotencyKey", idempotencyKey, Limits.IdempotencyKeyMaxLength),
            ClubId = Require.Slug("clubId", clubId),
            Kind = Require.Defined("kind", kind),
            Period = period,
            Description = Require.Text("description", description, Limits.DescriptionMaxLength),
            OccurredAt = occurredAt,
            RecordedAt = recordedAt,
            ReversesTransactionId = reverses,
        };
        for (var index = 0; index < postings.Count; index++)
        {
            var posting = postings[index];
            transaction._entries.Add(LedgerEntry.Create(id, index + 1, posting.AccountId, posting.Side, posting.Amount));
        }

        return transaction;
    }
}

/// <summary>Ledger rules shared by the domain and the storage layer's write-time check.</summary>
public static class LedgerRules
{
    /// <summary>Whether debits equal credits (overflow-checked).</summary>
    public static bool IsBalanced(IEnumerable<(EntrySide Side, Money Amount)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var balance = Money.Zero;
        foreach (var (side, amount) in entries)
        {
            balance = side == EntrySide.Debit ? balance + amount : balance - amount;
        }

        return balance == Money.Zero;
    }
}

/// <summary>Idempotency keys derived from a transaction's source: the same source always gives the same key.</summary>
public static class IdempotencyKeys
{
    /// <summary>The booking of an accepted redemption (or cancellation) event.</summary>
    public static string Redemption(Guid redemptionId) => "redemption:" + redemptionId.ToString("N");

    /// <summary>A contract's fee accrued for a period.</summary>
    public static string FeeAccrual(string contractId, Period period) => $"fee-accrual:{contractId}:{period}";

    /// <summary>A fee payment, by the payer's reference.</summary>
    public static string FeePayment(string contractId, string paymentReference) => $"fee-payment:{contractId}:{paymentReference}";

    /// <summary>The reversal of the transaction with <paramref name="originalKey"/>.</summary>
    public static string Reversal(string originalKey) => "reversal:" + originalKey;

    /// <summary>A subsidy settlement, by reference.</summary>
    public static string SubsidySettlement(string clubId, string partnerId, string reference) =>
        string.Create(CultureInfo.InvariantCulture, $"subsidy:{clubId}:{partnerId}:{reference}");
}
