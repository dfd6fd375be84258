namespace HlmHub.Server.Tests;
