using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SliceChat.Tests.Support;

/// <summary>
/// A loopback TCP proxy between an app and its PostgreSQL, which a test can cut (every open connection
/// closed, new ones closed as soon as they are accepted) and restore: the database stopped, as the app
/// sees it, without stopping the server the other test classes share.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly ConcurrentDictionary<TcpClient, TcpClient?> connections = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task accepting;
    private volatile bool cut;

    public TcpProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>A proxy in front of the PostgreSQL server of <paramref name="connectionString"/>.</summary>
    public static TcpProxy ForPostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new TcpProxy(builder.Host ?? "127.0.0.1", builder.Port);
    }

    /// <summary>The same connection string, through the proxy.</summary>
    public string Route(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    /// <summary>The database goes away: open connections are reset, new ones are closed at once.</summary>
    public void Cut()
    {
        cut = true;
        foreach (var (client, server) in connections)
        {
            Reset(client);
            Reset(server);
        }
    }

    /// <summary>The database is back; the app's pooled connections that were cut are still broken until it drops them.</summary>
    public void Restore() => cut = false;

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            if (cut)
            {
                Reset(client);
                continue;
            }
            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        connections[client] = null;
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(targetHost, targetPort, stopping.Token);
            connections[client] = server;
            if (cut)
            {
                return;
            }
            var upstream = client.GetStream().CopyToAsync(server.GetStream(), stopping.Token);
            var downstream = server.GetStream().CopyToAsync(client.GetStream(), stopping.Token);
            await Task.WhenAny(upstream, downstream);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // one side went away: both close below
        }
        finally
        {
            connections.TryRemove(client, out _);
            Reset(client);
            Reset(server);
        }
    }

    /// <summary>Closes with a reset, as a server that went away does (no orderly shutdown).</summary>
    private static void Reset(TcpClient? connection)
    {
        if (connection is null)
        {
            return;
        }
        try
        {
            connection.Client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed
        }
        connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        Cut();
        stopping.Dispose();
    }
}
