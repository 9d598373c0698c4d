// Sends per second through the REST send route: 8 concurrent senders, each posting in turn to the 10
// rooms they all share, on one app instance (real Kestrel port) over PostgreSQL and Redis. Each run
// uses a fresh database; prints every run and the median.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SliceChat.Infrastructure.Conversations;

namespace SliceChat.Bench;

internal static class SendThroughput
{
    private const int Senders = 8;
    private const int Rooms = 10;

    public static async Task RunAsync(string postgres, string redis, int runs, TimeSpan warmUp, TimeSpan measured)
    {
        var results = new List<double>();
        for (var run = 1; run <= runs; run++)
        {
            var rate = await RunOnceAsync(postgres, redis, warmUp, measured);
            results.Add(rate);
            Console.WriteLine($"run {run}: {rate:0} sends/s");
        }
        var sorted = results.Order().ToList();
        Console.WriteLine($"median of {runs}: {sorted[sorted.Count / 2]:0} sends/s ({Senders} concurrent REST senders, {Rooms} rooms, {measured.TotalSeconds:0} s each after {warmUp.TotalSeconds:0} s warm-up, {Environment.ProcessorCount} cores)");
    }

    private static async Task<double> RunOnceAsync(string postgres, string redis, TimeSpan warmUp, TimeSpan measured)
    {
        var database = "slicechat_sends_" + Guid.NewGuid().ToString("N")[..8];
        var admin = new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection).ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString;
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        double rate;
        await using (var instance = new Instance(connectionString, redis))
        {
            var users = new List<(Guid Id, HttpClient Http)>();
            for (var i = 0; i < Senders; i++)
            {
                var http = new HttpClient { BaseAddress = instance.Address };
                var username = "send" + Guid.NewGuid().ToString("N")[..12];
                (await http.PostAsJsonAsync("/api/v1/auth/register", new { username, email = $"{username}@example.com", password = "benchmark password" }, json)).EnsureSuccessStatusCode();
                var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "benchmark password" }, json)).Content.ReadFromJsonAsync<JsonElement>();
                http.DefaultRequestHeaders.Authorization = new("Bearer", login.GetProperty("access_token").GetString());
                users.Add(((await http.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("id").GetGuid(), http));
            }
            var rooms = new List<Guid>();
            for (var i = 0; i < Rooms; i++)
            {
                var created = await users[0].Http.PostAsJsonAsync("/api/v1/chatrooms", new { name = $"sends {i}", member_ids = users.Skip(1).Select(u => u.Id).ToArray() }, json);
                rooms.Add((await created.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
            }

            var counting = 0;
            long sent = 0;
            using var stop = new CancellationTokenSource();
            var senders = users.Select((user, index) => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var room = rooms[(index + n) % Rooms];
                    var response = await user.Http.PostAsJsonAsync($"/api/v1/chatrooms/{room}/messages", new { content = $"message {n} of sender {index}", client_message_id = $"{index}-{n}" }, json);
                    if (response.StatusCode != System.Net.HttpStatusCode.Created)
                    {
                        throw new InvalidOperationException($"Expected 201, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                    if (Volatile.Read(ref counting) == 1)
                    {
                        Interlocked.Increment(ref sent);
                    }
                }
            })).ToList();

            var batcher = instance.Services.GetRequiredService<SendBatcher>();
            await Task.Delay(warmUp);
            var watch = Stopwatch.StartNew();
            var batchesBefore = batcher.Batches;
            Volatile.Write(ref counting, 1);
            await Task.Delay(measured);
            Volatile.Write(ref counting, 0);
            var elapsed = watch.Elapsed;
            var total = Interlocked.Read(ref sent);
            Console.WriteLine($"  {total / (double)Math.Max(1, batcher.Batches - batchesBefore):0.0} sends per batch");
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            rate = total / elapsed.TotalSeconds;

            // Every send is stored once, with gap-free seqs per room.
            await using var check = new NpgsqlConnection(connectionString);
            await check.OpenAsync();
            var gaps = await new NpgsqlCommand("SELECT count(*) FROM (SELECT chatroom_id, count(*) AS n, max(seq) AS top, min(seq) AS bottom FROM messages GROUP BY chatroom_id) s WHERE n <> top OR bottom <> 1", check).ExecuteScalarAsync();
            if (Convert.ToInt64(gaps, System.Globalization.CultureInfo.InvariantCulture) != 0)
            {
                throw new InvalidOperationException("Seqs have gaps.");
            }
            foreach (var user in users)
            {
                user.Http.Dispose();
            }
        }
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection).ExecuteNonQueryAsync();
        }
        return rate;
    }
}
