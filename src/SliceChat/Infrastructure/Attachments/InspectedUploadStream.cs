using System.Security.Cryptography;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>An upload past <c>Limits:AttachmentMaxBytes</c>: thrown while it streams, as soon as the limit is passed.</summary>
public sealed class AttachmentTooLargeException(long max) : Exception($"The file is over the limit of {max} bytes.")
{
    public long Max { get; } = max;
}

/// <summary>
/// An upload's bytes on their way to the store, read once: the first <see cref="ContentSniffer.PrefixBytes"/>
/// are read ahead (to decide the type before anything is stored), then the stream yields them and the rest,
/// hashing (SHA-256) and counting as it goes, and throws <see cref="AttachmentTooLargeException"/> at the first
/// byte past the limit. Nothing is held but one prefix buffer.
/// </summary>
public sealed class InspectedUploadStream(Stream source, long maxBytes) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] prefix = new byte[ContentSniffer.PrefixBytes];
    private int prefixLength, prefixRead;

    public ReadOnlySpan<byte> Prefix => prefix.AsSpan(0, prefixLength);

    /// <summary>Bytes yielded so far.</summary>
    public long Size { get; private set; }

    public async Task ReadPrefixAsync(CancellationToken ct)
    {
        int read;
        while (prefixLength < prefix.Length && (read = await source.ReadAsync(prefix.AsMemory(prefixLength), ct)) > 0)
        {
            prefixLength += read;
        }
        Count(prefixLength);
    }

    /// <summary>The hex SHA-256 of everything yielded; call once the stream is read to its end.</summary>
    public string Sha256Hex() => Convert.ToHexStringLower(hash.GetHashAndReset());

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (prefixRead < prefixLength)
        {
            var n = Math.Min(buffer.Length, prefixLength - prefixRead);
            prefix.AsMemory(prefixRead, n).CopyTo(buffer);
            hash.AppendData(prefix, prefixRead, n);
            prefixRead += n;
            return n;
        }
        var read = await source.ReadAsync(buffer, cancellationToken);
        Count(read);
        hash.AppendData(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

    private void Count(int read)
    {
        Size += read;
        if (Size > maxBytes)
        {
            throw new AttachmentTooLargeException(maxBytes);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Size; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
