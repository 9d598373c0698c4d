using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Processing;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Attachments;

public enum ImageOutcome
{
    Done,
    /// <summary>Its header declares more than <c>Limits:AttachmentMaxImagePixels</c>; it was not decoded.</summary>
    TooManyPixels,
    /// <summary>Not an image ImageSharp can read, though its first bytes said so.</summary>
    Unreadable,
}

/// <summary>What an image upload is found to be: its size in pixels, and its thumbnail's type when one was stored.</summary>
public sealed record ImageFacts(ImageOutcome Outcome, int Width = 0, int Height = 0);

/// <summary>
/// Reads an uploaded image's dimensions and makes its thumbnail (at most <see cref="ThumbnailMaxSide"/> px on its
/// longer side: JPEG for JPEG sources, PNG otherwise), with SixLabors.ImageSharp under limits that keep a crafted
/// file (a decompression bomb) from exhausting memory: the dimensions come from the header first and an image over
/// <c>Limits:AttachmentMaxImagePixels</c> is never decoded; only a GIF's first frame is decoded; the allocator
/// refuses any buffer over what the pixel limit needs; at most <c>Limits:ImageDecodesInFlight</c> decodes run at once.
/// </summary>
public sealed class AttachmentImages : IDisposable
{
    public const int ThumbnailMaxSide = 320;

    private readonly Configuration configuration;
    private readonly long maxPixels;
    private readonly SemaphoreSlim decodes;

    public AttachmentImages(IOptions<LimitsOptions> options)
    {
        var limits = options.Value;
        maxPixels = limits.AttachmentMaxImagePixels;
        decodes = new SemaphoreSlim(limits.ImageDecodesInFlight);
        configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule(), new GifConfigurationModule(), new WebpConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                // Rgba32 of the largest image allowed, and room for the decoders' own buffers.
                AllocationLimitMegabytes = (int)Math.Min(int.MaxValue, (maxPixels * 4 / (1024 * 1024)) + 64),
                MaximumPoolSizeMegabytes = 64,
            }),
        };
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
    }

    public static string ThumbnailContentType(string contentType) => contentType == ContentSniffer.Jpeg ? ContentSniffer.Jpeg : ContentSniffer.Png;

    /// <summary>The image's dimensions from its header and, within the limits, its thumbnail written to <paramref name="thumbnail"/>.</summary>
    public async Task<ImageFacts> InspectAsync(Func<CancellationToken, Task<Stream>> open, string contentType, Stream thumbnail, CancellationToken ct)
    {
        IImageInfo? info;
        await using (var header = await open(ct))
        {
            info = await ReadAsync(() => Image.IdentifyAsync(configuration, header, ct));
        }
        if (info is null || info.Width <= 0 || info.Height <= 0)
        {
            return new ImageFacts(ImageOutcome.Unreadable);
        }
        if ((long)info.Width * info.Height > maxPixels)
        {
            return new ImageFacts(ImageOutcome.TooManyPixels, info.Width, info.Height);
        }

        await decodes.WaitAsync(ct);
        try
        {
            await using var source = await open(ct);
            using var image = await ReadAsync(() => Image.LoadAsync(configuration, source, ct));
            if (image is null)
            {
                return new ImageFacts(ImageOutcome.Unreadable);
            }
            if (image.Width > ThumbnailMaxSide || image.Height > ThumbnailMaxSide)
            {
                image.Mutate(x => x.Resize(new ResizeOptions { Mode = ResizeMode.Max, Size = new Size(ThumbnailMaxSide, ThumbnailMaxSide) }));
            }
            image.Metadata.ExifProfile = null;
            image.Metadata.XmpProfile = null;
            if (ThumbnailContentType(contentType) == ContentSniffer.Jpeg)
            {
                await image.SaveAsJpegAsync(thumbnail, new JpegEncoder { Quality = 80 }, ct);
            }
            else
            {
                await image.SaveAsPngAsync(thumbnail, ct);
            }
            return new ImageFacts(ImageOutcome.Done, info.Width, info.Height);
        }
        finally
        {
            decodes.Release();
        }
    }

    public void Dispose() => decodes.Dispose();

    /// <summary>What ImageSharp throws for a file it cannot read (or one over the allocator's limit) is null.</summary>
    private static async Task<T?> ReadAsync<T>(Func<Task<T>> read) where T : class
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException
            or InvalidMemoryOperationException or NotSupportedException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }
}
