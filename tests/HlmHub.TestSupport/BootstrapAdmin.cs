using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace HlmHub.TestSupport;

/// <summary>
/// The first hub administrator, whose credentials a hub writes to <see cref="FileName"/> in its data directory on
/// its first start, and the way a test gets a token with them: as an operator's script would, a client-credentials
/// request (client_secret_basic) over HTTP/1.1 to the hub's token endpoint.
/// </summary>
public sealed record BootstrapAdmin(string ClientId, string Secret)
{
    /// <summary>The credentials file's name in the hub's data directory.</summary>
    public const string FileName = "bootstrap-admin.json";

    /// <summary>Reads the credentials a hub with <paramref name="dataDirectory"/> wrote.</summary>
    public static BootstrapAdmin Read(string dataDirectory)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDirectory, FileName)));
        return new(json.RootElement.GetProperty("client_id").GetString()!, json.RootElement.GetProperty("client_secret").GetString()!);
    }

    /// <summary>
    /// An access token from the hub whose Http endpoint is <paramref name="hubHttpAddress"/>; throws with the status and
    /// body when the token endpoint refuses.
    /// </summary>
    public async Task<string> GetTokenAsync(Uri hubHttpAddress, string? scope = null)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(hubHttpAddress, "connect/token"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new FormUrlEncodedContent(form),
        };
        var credentials = Uri.EscapeDataString(ClientId) + ":" + Uri.EscapeDataString(Secret);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        using var response = await http.SendAsync(request, TestTimeouts.Token());
        var body = await response.Content.ReadAsStringAsync(TestTimeouts.Token());
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"The bootstrap administrator's token request to {request.RequestUri} failed: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
