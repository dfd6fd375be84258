using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Grpc.Core;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// Paging of the Admin API's lists. A page token is opaque to clients: it encodes the position of the next
/// item in the list's stable order (by id). Admin lists are short and change rarely, so an offset is enough;
/// an item created between two pages may be seen twice or not at all, never corrupt a page.
/// </summary>
internal static class AdminPaging
{
    /// <summary>Items per page when the request says 0: 50.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>The largest page a request may ask for: 500 items (larger is INVALID_ARGUMENT).</summary>
    public const int MaxPageSize = 500;

    private const string TokenPrefix = "offset:";

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

    private static int DecodeOffset(string pageToken)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(pageToken));
            if (text.StartsWith(TokenPrefix, StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(TokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
            // Reported below with the same message as any other unreadable token.
        }

        throw new RpcException(new Status(StatusCode.InvalidArgument, "page_token: must be a next_page_token returned by the same list"));
    }

    /// <summary>A page: skip <paramref name="Offset"/> items, return at most <paramref name="Size"/>.</summary>
    internal readonly record struct Page(int Offset, int Size)
    {
        /// <summary>How many items to query: one more than the page, to know whether another page follows.</summary>
        public int FetchCount => Size + 1;
    }
}

/// <summary>Applies a <see cref="AdminPaging.Page"/> to a query ordered by the caller.</summary>
internal static class PagingQueryExtensions
{
    public static IQueryable<T> Page<T>(this IOrderedQueryable<T> query, AdminPaging.Page page) =>
        query.Skip(page.Offset).Take(page.FetchCount);
}
