using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Protocols;

namespace HlmHub.Identity.Internal;

/// <summary>
/// The cause of a failure to read an issuer's metadata or the database, as one line for the operator's log: each
/// exception of the chain by its type, the innermost with its message (where the cause is: "Name or service not known",
/// "Connection refused", a 404, a time-out, "no such table"), an HTTP status and error kind where there is one. The
/// text is cleaned of what must not reach a log: the query string of any URL (an issuer's URL may carry a key), and
/// anything shaped like a JWT. Long messages (an issuer's error page quoted by IdentityModel) are cut.
/// </summary>
internal static partial class FailureCause
{
    private const int MaxMessageLength = 300;

    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var chain = new List<string>();
        var innermost = exception;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            chain.Add(Status(current) is { } status ? $"{current.GetType().Name} ({status})" : current.GetType().Name);
            innermost = current;
        }

        return $"{string.Join(" > ", chain)}: {Clean(innermost.Message)}";
    }

    // What an HTTP failure says beyond its message: the answer's status (IdentityModel keeps it in the exception's
    // Data, its message hiding the response as PII), or the kind of transport failure (name resolution, connection).
    private static string? Status(Exception exception) => exception switch
    {
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status}",
        HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http => http.HttpRequestError.ToString(),
        _ when exception.Data[HttpDocumentRetriever.StatusCode] is HttpStatusCode status => $"HTTP {(int)status}",
        _ => null,
    };

    private static string Clean(string message)
    {
        var text = WhiteSpace().Replace(message, " ").Trim();
        text = Jwt().Replace(text, "[token]");
        text = QueryString().Replace(text, "$1?[query removed]");
        return text.Length <= MaxMessageLength ? text : string.Concat(text.AsSpan(0, MaxMessageLength), "...");
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    // Three base64url segments, the first a JSON header ("eyJ"): a JWS, whatever quotes it.
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();

    // A URL up to its '?', then its query (and fragment) up to a space, a quote or the end.
    [GeneratedRegex(@"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'""?#]*)[?#][^\s'""]*")]
    private static partial Regex QueryString();
}
