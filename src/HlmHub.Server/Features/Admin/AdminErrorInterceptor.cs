using System.Text;
using HlmHub.Domain;
using HlmHub.Grpc;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// The one place where the Admin API turns expected failures into gRPC statuses: a domain rule refusing a
/// request (INVALID_ARGUMENT or FAILED_PRECONDITION, message "field: rule" with the field in the proto's
/// snake_case), the client registry refusing a registration, and a unique index refusing a write that a
/// concurrent call made first (ABORTED: the caller retries and gets the precise answer). Everything else is a
/// bug and stays an error. Runs inside the authorization interceptor, so only authorized calls get here.
/// </summary>
internal sealed class AdminErrorInterceptor : IServerCallInterceptor
{
    public async Task InterceptAsync(ServerCallContext context, ServerCallContinuation next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.MethodDefinition.ServiceName != AdminService.ServiceName)
        {
            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (DomainException exception)
        {
            var code = exception.Kind switch
            {
                DomainErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
                DomainErrorKind.NotFound => StatusCode.NotFound,
                DomainErrorKind.LimitExceeded => StatusCode.ResourceExhausted,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(code, $"{ToSnakeCase(exception.Field)}: {exception.Rule}");
        }
        catch (ClientRegistryException exception)
        {
            var code = exception.Error switch
            {
                ClientRegistryError.AlreadyExists => StatusCode.AlreadyExists,
                ClientRegistryError.NotFound => StatusCode.NotFound,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(code, exception.Message);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            throw new RpcException(StatusCode.Aborted, "A concurrent change wrote the same record first; nothing was changed: retry to see why.");
        }
    }

    /// <summary>The domain names fields in lowerCamel (<c>hostLandlordId</c>); the proto says <c>host_landlord_id</c>.</summary>
    internal static string ToSnakeCase(string field)
    {
        var builder = new StringBuilder(field.Length + 8);
        foreach (var character in field)
        {
            if (char.IsAsciiLetterUpper(character))
            {
                builder.Append('_').Append(char.ToLowerInvariant(character));
            }
            else
            {
                builder.Append(character);
            }
        }

        return builder.ToString();
    }
}
