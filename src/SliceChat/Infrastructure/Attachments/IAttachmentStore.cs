namespace SliceChat.Infrastructure.Attachments;

/// <summary>
/// Where attachment bytes live, by key (an attachment's id, or its thumbnail's key), never by a client's file
/// name. Small on purpose, so an S3-compatible store can stand in for the local directory: a save takes a
/// forward-only stream of unknown length, a read gives a stream back.
/// </summary>
public interface IAttachmentStore
{
    /// <summary>Stores what <paramref name="content"/> yields under <paramref name="key"/>; nothing is stored when reading it throws.</summary>
    Task SaveAsync(string key, Stream content, CancellationToken ct);

    /// <summary>The stored bytes (seekable where the store can, for ranges), or null when there is nothing under the key.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Removes the key's bytes; nothing under it is fine.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

public static class AttachmentKeys
{
    public static string Original(Guid id) => id.ToString("N");

    public static string Thumbnail(Guid id) => id.ToString("N") + ".thumb";
}

/// <summary>The attachment store as files of one local directory (<c>Storage:AttachmentsDirectory</c>).</summary>
public sealed class LocalAttachmentStore(string directory) : IAttachmentStore
{
    private const int BufferSize = 81920;

    public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

    public async Task SaveAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        // Written aside and moved in place once complete: a reader never sees half a file.
        var partial = path + "." + Guid.NewGuid().ToString("N") + ".partial";
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferSize, ct);
            }
            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    /// <summary>Keys are made here (hex ids and suffixes), but checked anyway: a key can never leave the directory.</summary>
    private string PathOf(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '.') && !key.Contains("..", StringComparison.Ordinal)
            ? Path.Combine(Directory, key)
            : throw new ArgumentException("Not an attachment key.", nameof(key));
}
