namespace HlmHub.Domain.Tests;
