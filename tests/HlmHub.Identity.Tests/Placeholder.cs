namespace HlmHub.Identity.Tests;
