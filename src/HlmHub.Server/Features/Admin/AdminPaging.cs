using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Grpc.Core;
using HlmHub.Domain;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// Paging of the Admin API's lists. A page token is opaque to clients: it encodes the position of the next
/// item in the list's stable order (by id). Most Admin lists are short and change rarely, so an offset is enough
/// (the ledger, which grows while it is paged, pages after its last entry: <see cref="ReadFilteredAfterKey"/>);
/// an item created between two pages may be seen twice or not at all, never corrupt a page. A list a request
/// filters (a club, a month, an account, a kind) records its filters in the token (<see cref="Filters"/>): a position
/// in one filtered list is no position in another, so a token sent with other filters is INVALID_ARGUMENT rather than
/// a page of the wrong list.
/// </summary>
internal static class AdminPaging
{
    /// <summary>Items per page when the request says 0: 50.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>The largest page a request may ask for: 500 items (larger is INVALID_ARGUMENT).</summary>
    public const int MaxPageSize = 500;

    private const string TokenPrefix = "offset:";

    private const string ScopePrefix = "in:";

    private const char ScopeSeparator = '|';

    private const string AfterPrefix = "after:";

    private const string FiltersSeparator = "|filters:";

    // Bytes of the filters' SHA-256 a token keeps: enough that two sets of filters a client sends never share one.
    private const int FiltersHashBytes = 12;

    // Keys are ids (slugs of at most 100 characters): a longer one is no key the hub handed out.
    private const int MaxKeyLength = Limits.SlugMaxLength;

    /// <summary>The page a request asks for.</summary>
    public static Page Read(int pageSize, string pageToken)
    {
        if (pageSize < 0 || pageSize > MaxPageSize)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"page_size: must be between 0 (default {DefaultPageSize}) and {MaxPageSize}"));
        }

        var size = pageSize == 0 ? DefaultPageSize : pageSize;
        if (string.IsNullOrEmpty(pageToken))
        {
            return new Page(0, size);
        }

        return new Page(DecodeOffset(pageToken), size);
    }

    /// <summary>
    /// The token of the page after <paramref name="page"/>, which returned <paramref name="fetched"/> items
    /// (queried with <see cref="Page.FetchCount"/>, one more than the page size, to know whether more follow);
    /// empty on the last page.
    /// </summary>
    public static string NextToken(Page page, int fetched) =>
        fetched > page.Size ? Base64Url.EncodeToString(Encoding.ASCII.GetBytes(TokenPrefix + (page.Offset + page.Size).ToString(CultureInfo.InvariantCulture))) : "";

    /// <summary>
    /// What a filtered list's token records of its request: a hash of the list's name and its filters as the handler
    /// applies them (an unset filter as empty), so that tokens stay short and opaque.
    /// </summary>
    public static string Filters(string list, params string[] values)
    {
        var text = new StringBuilder(list.Length + 16);
        foreach (var value in values.Prepend(list))
        {
            // Each value with its length: ("a|", "b") and ("a", "|b") are different filters.
            text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
        }

        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return Base64Url.EncodeToString(hash.AsSpan(0, FiltersHashBytes));
    }

    /// <summary>
    /// The page a request of a filtered list asks for: as <see cref="Read"/>, and its token must have been returned for
    /// the same <paramref name="filters"/> (<see cref="Filters"/>), else INVALID_ARGUMENT.
    /// </summary>
    public static Page ReadFiltered(int pageSize, string pageToken, string filters)
    {
        var first = Read(pageSize, "");
        if (string.IsNullOrEmpty(pageToken))
        {
            return first;
        }

        var (position, tokenFilters) = SplitFilters(DecodeText(pageToken));
        var offset = ParseOffset(position);
        return tokenFilters == filters ? new Page(offset, first.Size) : throw FiltersChanged();
    }

    /// <summary>As <see cref="NextToken(Page, int)"/>, for a list read with <see cref="ReadFiltered"/>: the token records <paramref name="filters"/>.</summary>
    public static string NextFilteredToken(Page page, int fetched, string filters) =>
        fetched > page.Size
            ? Base64Url.EncodeToString(Encoding.ASCII.GetBytes(TokenPrefix + (page.Offset + page.Size).ToString(CultureInfo.InvariantCulture) + FiltersSeparator + filters))
            : "";

    /// <summary>
    /// The page a request asks for, of a list whose items depend on something the first page chose (a list of one
    /// reconciliation run's discrepancies, "the month's latest run" when the request names none). The token carries that
    /// choice, <paramref name="scope"/>: null on the first page; every later page must read the same thing, or pages
    /// of two different lists would be joined as one.
    /// </summary>
    public static Page ReadScoped(int pageSize, string pageToken, string filters, out string? scope)
    {
        var first = Read(pageSize, "");
        if (string.IsNullOrEmpty(pageToken))
        {
            scope = null;
            return first;
        }

        var (text, tokenFilters) = SplitFilters(DecodeText(pageToken));
        var separator = text.IndexOf(ScopeSeparator, StringComparison.Ordinal);
        if (!text.StartsWith(ScopePrefix, StringComparison.Ordinal) || separator < 0)
        {
            throw UnreadableToken();
        }

        scope = text[ScopePrefix.Length..separator];
        var offset = ParseOffset(text[(separator + 1)..]);
        return tokenFilters == filters ? new Page(offset, first.Size) : throw FiltersChanged();
    }

    /// <summary>
    /// As <see cref="NextToken(Page, int)"/>, for a list read with <see cref="ReadScoped"/>: the token carries
    /// <paramref name="scope"/> and records <paramref name="filters"/>.
    /// </summary>
    public static string NextToken(Page page, int fetched, string scope, string filters)
    {
        if (fetched <= page.Size)
        {
            return "";
        }

        if (scope.Contains(ScopeSeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException("A page token's scope cannot hold its separator.", nameof(scope));
        }

        var offset = (page.Offset + page.Size).ToString(CultureInfo.InvariantCulture);
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(ScopePrefix + scope + ScopeSeparator + TokenPrefix + offset + FiltersSeparator + filters));
    }

    /// <summary>
    /// The page a request asks for, of a list a partner's system pages through while it changes (offers leave it as
    /// contracts end): the token holds the last key returned rather than a position, so an item leaving or joining
    /// between two pages moves no other item to a page already read. For lists in the order of one unique key.
    /// </summary>
    public static KeyPage ReadAfterKey(int pageSize, string pageToken)
    {
        var first = Read(pageSize, "");
        if (string.IsNullOrEmpty(pageToken))
        {
            return new KeyPage(null, first.Size);
        }

        // The key goes into a query: a forged one holding a control character (a NUL PostgreSQL refuses) or of any
        // length is refused as unreadable, as any other forged token.
        var text = DecodeText(pageToken);
        var key = text.StartsWith(AfterPrefix, StringComparison.Ordinal) ? text[AfterPrefix.Length..] : "";
        return key.Length is > 0 and <= MaxKeyLength && PrintableText.Is(key) ? new KeyPage(key, first.Size) : throw UnreadableToken();
    }

    /// <summary>
    /// The token of the page after <paramref name="page"/>, given the keys the query returned in order
    /// (<see cref="KeyPage.FetchCount"/> were asked for): the last key of the page; empty on the last page.
    /// </summary>
    public static string NextAfterKeyToken(KeyPage page, IReadOnlyList<string> fetchedKeys)
    {
        ArgumentNullException.ThrowIfNull(fetchedKeys);
        return fetchedKeys.Count > page.Size ? Base64Url.EncodeToString(Encoding.UTF8.GetBytes(AfterPrefix + fetchedKeys[page.Size - 1])) : "";
    }

    /// <summary>
    /// As <see cref="ReadAfterKey"/>, for a list a request filters (<see cref="Filters"/>): the token records the
    /// filters it was returned for, and one sent with other filters is INVALID_ARGUMENT. For a list that grows while it
    /// is paged (the ledger): a position would shift by every item that joins before it, and repeat items on the next page.
    /// </summary>
    public static KeyPage ReadFilteredAfterKey(int pageSize, string pageToken, string filters)
    {
        var first = Read(pageSize, "");
        if (string.IsNullOrEmpty(pageToken))
        {
            return new KeyPage(null, first.Size);
        }

        var (position, tokenFilters) = SplitFilters(DecodeText(pageToken));
        var key = position.StartsWith(AfterPrefix, StringComparison.Ordinal) ? position[AfterPrefix.Length..] : "";
        if (key.Length is 0 or > MaxKeyLength || !PrintableText.Is(key))
        {
            throw UnreadableToken();
        }

        return tokenFilters == filters ? new KeyPage(key, first.Size) : throw FiltersChanged();
    }

    /// <summary>As <see cref="NextAfterKeyToken"/>, for a list read with <see cref="ReadFilteredAfterKey"/>: the token records <paramref name="filters"/>.</summary>
    public static string NextFilteredAfterKeyToken(KeyPage page, IReadOnlyList<string> fetchedKeys, string filters)
    {
        ArgumentNullException.ThrowIfNull(fetchedKeys);
        return fetchedKeys.Count > page.Size
            ? Base64Url.EncodeToString(Encoding.UTF8.GetBytes(AfterPrefix + fetchedKeys[page.Size - 1] + FiltersSeparator + filters))
            : "";
    }

    private static int DecodeOffset(string pageToken) => ParseOffset(DecodeText(pageToken));

    private static string DecodeText(string pageToken)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(pageToken));
        }
        catch (FormatException)
        {
            throw UnreadableToken();
        }
    }

    // A scoped token ("in:...|offset:n") does not start with the offset prefix: an unscoped list refuses it, as any
    // other token of another list.
    private static int ParseOffset(string text) =>
        text.StartsWith(TokenPrefix, StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(TokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? offset
            : throw UnreadableToken();

    // A filtered list's token ends with the filters it was returned for; one without them is of another list.
    private static (string Position, string Filters) SplitFilters(string text)
    {
        var at = text.LastIndexOf(FiltersSeparator, StringComparison.Ordinal);
        return at < 0 ? throw UnreadableToken() : (text[..at], text[(at + FiltersSeparator.Length)..]);
    }

    private static RpcException FiltersChanged() =>
        new(new Status(StatusCode.InvalidArgument,
            "page_token does not match the request's filters: send the first page's filters with each next_page_token, or no page_token to start again"));

    /// <summary>INVALID_ARGUMENT for a page token that no list of the hub returned (or a forged one).</summary>
    public static RpcException UnreadableToken() =>
        new(new Status(StatusCode.InvalidArgument, "page_token: must be a next_page_token returned by the same list"));

    /// <summary>A page: skip <paramref name="Offset"/> items, return at most <paramref name="Size"/>.</summary>
    internal readonly record struct Page(int Offset, int Size)
    {
        /// <summary>How many items to query: one more than the page, to know whether another page follows.</summary>
        public int FetchCount => Size + 1;
    }
}

/// <summary>A page after a key: the items whose key follows <paramref name="After"/> (null: from the first), at most <paramref name="Size"/>.</summary>
internal readonly record struct KeyPage(string? After, int Size)
{
    /// <summary>How many items to query: one more than the page, to know whether another page follows.</summary>
    public int FetchCount => Size + 1;
}

/// <summary>Applies a <see cref="AdminPaging.Page"/> to a query ordered by the caller.</summary>
internal static class PagingQueryExtensions
{
    public static IQueryable<T> Page<T>(this IOrderedQueryable<T> query, AdminPaging.Page page) =>
        query.Skip(page.Offset).Take(page.FetchCount);
}
