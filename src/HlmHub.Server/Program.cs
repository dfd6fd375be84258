using HlmHub.Grpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var builder = WebApplication.CreateBuilder(args);

// gRPC needs HTTP/2. Kestrel cannot offer HTTP/1.1 and HTTP/2 on one cleartext port (no ALPN without TLS),
// so cleartext endpoints speak HTTP/2 with prior knowledge; TLS endpoints negotiate h2 by ALPN.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
builder.Services.AddHlmGrpc(options => builder.Configuration.GetSection("Grpc:Server").Bind(options));

var app = builder.Build();
app.MapGrpcHealth();
app.MapGrpcReflection();
app.Run();
