// Upload and download throughput of one 10 MiB attachment over real Kestrel on loopback: one app instance
// over PostgreSQL and Redis and a local attachments directory, a fresh database, warm-up rounds first; each
// run uploads the file (multipart, type sniffed, SHA-256, stored) and downloads it back whole. Prints every
// run and the medians in MB/s (1 MB = 10^6 bytes).
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;

namespace SliceChat.Bench;

internal static class AttachmentThroughput
{
    private const int FileBytes = 10 * 1024 * 1024;
    private const int WarmUpRounds = 3;

    public static async Task RunAsync(string postgres, string redis, int runs)
    {
        var database = "slicechat_files_" + Guid.NewGuid().ToString("N")[..8];
        var admin = new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection).ExecuteNonQueryAsync();
        }
        var directory = Directory.CreateTempSubdirectory("slicechat-bench-attachments-");
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        // A ZIP's signature, then incompressible bytes: a file of the allow-list, as large as the default limit allows.
        var file = RandomNumberGenerator.GetBytes(FileBytes);
        "PK\x03\x04"u8.CopyTo(file);
        var uploads = new List<double>();
        var downloads = new List<double>();
        try
        {
            await using var instance = new Instance(new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString, redis,
                new Dictionary<string, string> { ["Storage:AttachmentsDirectory"] = directory.FullName });
            using var http = new HttpClient { BaseAddress = instance.Address, Timeout = TimeSpan.FromMinutes(2) };
            var username = "files" + Guid.NewGuid().ToString("N")[..12];
            (await http.PostAsJsonAsync("/api/v1/auth/register", new { username, email = $"{username}@example.com", password = "benchmark password" }, json)).EnsureSuccessStatusCode();
            var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "benchmark password" }, json)).Content.ReadFromJsonAsync<JsonElement>();
            http.DefaultRequestHeaders.Authorization = new("Bearer", login.GetProperty("access_token").GetString());

            for (var round = -WarmUpRounds; round < runs; round++)
            {
                using var form = new MultipartFormDataContent();
                var part = new ByteArrayContent(file);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
                form.Add(part, "file", "bench.zip");
                var watch = Stopwatch.StartNew();
                var uploaded = await http.PostAsync("/api/v1/attachments", form);
                var uploadTime = watch.Elapsed;
                if (uploaded.StatusCode != System.Net.HttpStatusCode.Created)
                {
                    throw new InvalidOperationException($"Expected 201, got {(int)uploaded.StatusCode}: {await uploaded.Content.ReadAsStringAsync()}");
                }
                var url = (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;

                watch.Restart();
                using var download = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
                await using var body = await download.EnsureSuccessStatusCode().Content.ReadAsStreamAsync();
                long received = 0;
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    received += read;
                }
                var downloadTime = watch.Elapsed;
                if (received != FileBytes)
                {
                    throw new InvalidOperationException($"Downloaded {received} bytes, expected {FileBytes}.");
                }
                if (round < 0)
                {
                    continue;
                }
                uploads.Add(FileBytes / 1e6 / uploadTime.TotalSeconds);
                downloads.Add(FileBytes / 1e6 / downloadTime.TotalSeconds);
                Console.WriteLine($"run {round + 1}: upload {uploads[^1]:0} MB/s ({uploadTime.TotalMilliseconds:0} ms), download {downloads[^1]:0} MB/s ({downloadTime.TotalMilliseconds:0} ms)");
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection).ExecuteNonQueryAsync();
            }
            directory.Delete(recursive: true);
        }
        Console.WriteLine($"median of {runs}: upload {Median(uploads):0} MB/s, download {Median(downloads):0} MB/s "
            + $"(one {FileBytes / (1024 * 1024)} MiB file, loopback Kestrel, local directory, {Environment.ProcessorCount} cores)");
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
