using Google.Protobuf;
using Google.Protobuf.Reflection;
using HlmHub.Grpc.Internal;
using HlmHub.Grpc.Reflection.V1;
using Alpha = HlmHub.Grpc.Reflection.V1Alpha;

namespace HlmHub.Grpc.Reflection;

/// <summary>
/// Answers reflection requests from the descriptors of the mapped services. v1 and v1alpha have
/// the same wire format, so one implementation serves both: v1alpha messages are re-read as v1.
/// </summary>
internal sealed class ReflectionResolver(ServerRuntime runtime)
{
    /// <summary>Bound on requests per reflection stream, so one client cannot keep a stream busy forever.</summary>
    internal const int MaxRequestsPerStream = 10_000;

    // Built once, on the first request: services are all mapped before the server starts.
    private DescriptorIndex? _index;

    /// <summary>Answers each request of one reflection stream, in order; files are sent once per stream.</summary>
    public async Task ServeAsync<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        Func<TRequest, ServerReflectionRequest> toV1,
        Func<ServerReflectionResponse, TResponse> fromV1,
        ServerCallContext context)
    {
        var sentFiles = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            if (++count > MaxRequestsPerStream)
            {
                throw new RpcException(StatusCode.ResourceExhausted, $"More than {MaxRequestsPerStream} requests on one reflection stream.");
            }
            await responseStream.WriteAsync(fromV1(Answer(toV1(requestStream.Current), sentFiles)), context.CancellationToken);
        }
    }

    public ServerReflectionResponse Answer(ServerReflectionRequest request, HashSet<string> sentFiles)
    {
        var index = _index ??= DescriptorIndex.Build(runtime.Services.Values);
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                foreach (var name in runtime.Services.Keys.Order(StringComparer.Ordinal))
                {
                    list.Service.Add(new ServiceResponse { Name = name });
                }
                response.ListServicesResponse = list;
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                response = index.FilesByName.TryGetValue(request.FileByFilename, out var byName)
                    ? WithFiles(response, byName, sentFiles)
                    : WithError(response, StatusCode.NotFound, $"File not found: {request.FileByFilename}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                response = index.FilesBySymbol.TryGetValue(request.FileContainingSymbol, out var bySymbol)
                    ? WithFiles(response, bySymbol, sentFiles)
                    : WithError(response, StatusCode.NotFound, $"Symbol not found: {request.FileContainingSymbol}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                // proto3 has no extensions: a known type has none, an unknown type is an error.
                response = index.FilesBySymbol.ContainsKey(request.AllExtensionNumbersOfType)
                    ? Set(response, r => r.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType })
                    : WithError(response, StatusCode.NotFound, $"Type not found: {request.AllExtensionNumbersOfType}");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                response = WithError(response, StatusCode.NotFound, "Extensions are not used by this server.");
                break;
            default:
                response = WithError(response, StatusCode.InvalidArgument, "Empty reflection request.");
                break;
        }
        return response;
    }

    private static ServerReflectionResponse Set(ServerReflectionResponse response, Action<ServerReflectionResponse> set)
    {
        set(response);
        return response;
    }

    private static ServerReflectionResponse WithError(ServerReflectionResponse response, StatusCode code, string message)
    {
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
        return response;
    }

    /// <summary>The file and its transitive dependencies not yet sent on this stream (what grpcurl expects).</summary>
    private static ServerReflectionResponse WithFiles(ServerReflectionResponse response, FileDescriptor file, HashSet<string> sentFiles)
    {
        var files = new FileDescriptorResponse();
        var pending = new Stack<FileDescriptor>();
        pending.Push(file);
        var first = true;
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            // The requested file is always sent; dependencies only once per stream.
            if (!first && !sentFiles.Add(next.Name))
            {
                continue;
            }
            sentFiles.Add(next.Name);
            first = false;
            files.FileDescriptorProto.Add(next.SerializedData);
            foreach (var dependency in next.Dependencies)
            {
                pending.Push(dependency);
            }
        }
        response.FileDescriptorResponse = files;
        return response;
    }

    /// <summary>Every file reachable from the mapped services, by name and by the symbols they define.</summary>
    private sealed record DescriptorIndex(Dictionary<string, FileDescriptor> FilesByName, Dictionary<string, FileDescriptor> FilesBySymbol)
    {
        public static DescriptorIndex Build(IEnumerable<ServiceDescriptor> services)
        {
            var byName = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
            var bySymbol = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
            var pending = new Stack<FileDescriptor>(services.Select(s => s.File));
            while (pending.Count > 0)
            {
                var file = pending.Pop();
                if (!byName.TryAdd(file.Name, file))
                {
                    continue;
                }
                foreach (var service in file.Services)
                {
                    bySymbol.TryAdd(service.FullName, file);
                    foreach (var method in service.Methods)
                    {
                        bySymbol.TryAdd(service.FullName + "." + method.Name, file);
                    }
                }
                foreach (var message in file.MessageTypes)
                {
                    IndexMessage(message, file, bySymbol);
                }
                foreach (var enumType in file.EnumTypes)
                {
                    bySymbol.TryAdd(enumType.FullName, file);
                }
                foreach (var dependency in file.Dependencies)
                {
                    pending.Push(dependency);
                }
            }
            return new DescriptorIndex(byName, bySymbol);
        }
    }

    private static void IndexMessage(MessageDescriptor message, FileDescriptor file, Dictionary<string, FileDescriptor> bySymbol)
    {
        bySymbol.TryAdd(message.FullName, file);
        foreach (var nested in message.NestedTypes)
        {
            IndexMessage(nested, file, bySymbol);
        }
        foreach (var enumType in message.EnumTypes)
        {
            bySymbol.TryAdd(enumType.FullName, file);
        }
    }
}

/// <summary><c>grpc.reflection.v1.ServerReflection</c>.</summary>
internal sealed class ReflectionServiceV1(ReflectionResolver resolver)
{
    public Task ServerReflectionInfo(
        IAsyncStreamReader<ServerReflectionRequest> requestStream,
        IServerStreamWriter<ServerReflectionResponse> responseStream,
        ServerCallContext context) =>
        resolver.ServeAsync(requestStream, responseStream, request => request, response => response, context);
}

/// <summary><c>grpc.reflection.v1alpha.ServerReflection</c>, answered by the v1 resolver (same wire format).</summary>
internal sealed class ReflectionServiceV1Alpha(ReflectionResolver resolver)
{
    public Task ServerReflectionInfo(
        IAsyncStreamReader<Alpha.ServerReflectionRequest> requestStream,
        IServerStreamWriter<Alpha.ServerReflectionResponse> responseStream,
        ServerCallContext context) =>
        resolver.ServeAsync(
            requestStream,
            responseStream,
            request => ServerReflectionRequest.Parser.ParseFrom(request.ToByteString()),
            response => Alpha.ServerReflectionResponse.Parser.ParseFrom(response.ToByteString()),
            context);
}
