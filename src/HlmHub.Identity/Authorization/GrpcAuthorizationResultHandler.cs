using System.Globalization;
using HlmHub.Identity.Internal;
using HlmHub.Identity.ResourceServer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// Where every refused call ends. For a gRPC request it answers with a gRPC status a client can act on
/// (UNAUTHENTICATED with why the token was refused, PERMISSION_DENIED with the missing scope or caller kind)
/// instead of a bare HTTP 401/403, and audits the denial: client, rpc, reason and time, never the token.
/// Other requests get ASP.NET Core's default behaviour.
/// </summary>
internal sealed class GrpcAuthorizationResultHandler(DeniedCallLog deniedCalls, ILogger<GrpcAuthorizationResultHandler> logger)
    : IAuthorizationMiddlewareResultHandler
{
    private const string MissingToken = "Missing access token: send 'authorization: Bearer <token>'.";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Succeeded)
        {
            return next(context);
        }

        var caller = CallerClaimsIdentity.Find(context.User);
        var clientId = caller?.ClientId ?? "anonymous";
        int status;
        string message;
        if (authorizeResult.Challenged)
        {
            var failure = HubAuthentication.FailureOf(context);
            status = GrpcStatusCodes.Unauthenticated;
            message = failure is null ? MissingToken : $"Invalid access token: {failure}.";
            deniedCalls.Denied(logger, context.Connection.RemoteIpAddress, context.Request.Path, clientId, failure ?? "no bearer token");
        }
        else
        {
            var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(reason => reason.Message).ToList() ?? [];
            var reason = reasons.Count == 0 ? "the caller is not allowed" : string.Join("; ", reasons);
            status = GrpcStatusCodes.PermissionDenied;
            message = $"Permission denied: {reason}.";
            deniedCalls.Denied(logger, context.Connection.RemoteIpAddress, context.Request.Path, clientId, reason);
        }

        if (!IsGrpc(context.Request))
        {
            return HandleJsonAsync(next, context, policy, authorizeResult, status, message);
        }

        // A Trailers-Only response: HTTP 200, the gRPC status in the headers, no body.
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = GrpcStatusMessage.Encode(message);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A refused JSON request (the JSON-transcoded rpcs are the only ones that need a token off gRPC): ASP.NET Core's
    /// 401 with its <c>WWW-Authenticate</c> challenge, or 403, with the error body the transcoded rpcs answer with
    /// (<c>{"code", "message"}</c>), so an HTTP client learns why as a gRPC one does.
    /// </summary>
    private async Task HandleJsonAsync(
        RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult, int status, string message)
    {
        await _default.HandleAsync(next, context, policy, authorizeResult);
        if (context.Response.HasStarted)
        {
            return;
        }

        if (context.Response.StatusCode == StatusCodes.Status401Unauthorized && !context.Response.Headers.ContainsKey(HeaderNames.WWWAuthenticate))
        {
            // RFC 6750 §3: a refused bearer request names the scheme, and an invalid token says so.
            context.Response.Headers.WWWAuthenticate = HubAuthentication.FailureOf(context) is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new System.Text.Json.Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteNumber("code", status);
        json.WriteString("message", message);
        json.WriteStartArray("details");
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } contentType && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>The two codes this handler answers with (grpc's statuscodes.md), kept here to avoid a dependency on Grpc.Core for two numbers.</summary>
    private static class GrpcStatusCodes
    {
        public const int PermissionDenied = 7;
        public const int Unauthenticated = 16;
    }
}
