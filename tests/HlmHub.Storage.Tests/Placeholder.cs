namespace HlmHub.Storage.Tests;
