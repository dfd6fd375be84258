namespace HlmHub.Grpc.Tests;
