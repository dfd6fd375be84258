using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Grpc.Internal;

/// <summary>
/// Runs after the whole application pipeline, so it only sees requests no endpoint took: a gRPC
/// call to an unknown service or method gets Trailers-Only UNIMPLEMENTED (saying which), anything
/// else a plain 404.
/// </summary>
internal sealed class UnimplementedCallFilter(ServerRuntime runtime) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => application =>
    {
        next(application);
        application.Run(AnswerAsync);
    };

    private Task AnswerAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        if (!HttpMethods.IsPost(request.Method) || !GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            httpContext.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var path = request.Path.Value ?? string.Empty;
        var separator = path.IndexOf('/', 1);
        var service = separator > 1 ? path[1..separator] : path.TrimStart('/');
        var known = runtime.Services.ContainsKey(service);
        GrpcServerLog.Unimplemented(runtime.Logger, known ? "method" : "service", path);
        HttpServerCallContext.WriteTrailersOnly(httpContext, new Status(StatusCode.Unimplemented,
            known ? $"Method is unimplemented: {path}." : $"Service is unimplemented: {service}."));
        return Task.CompletedTask;
    }
}
