namespace HlmHub.Storage;

/// <summary>
/// A save would break the ledger: an update or delete of a transaction or entry, an entry added to an existing
/// transaction, or an unbalanced transaction. Always a bug in the caller: corrections are reversal transactions.
/// </summary>
public sealed class LedgerIntegrityException(string message) : InvalidOperationException(message);
