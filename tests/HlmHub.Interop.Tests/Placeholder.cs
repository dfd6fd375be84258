namespace HlmHub.Interop.Tests;
