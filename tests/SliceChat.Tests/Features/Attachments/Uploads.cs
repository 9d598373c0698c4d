using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SliceChat.Features;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Attachments;

/// <summary>Multipart uploads and the files tests upload.</summary>
public static class Uploads
{
    public static MultipartFormDataContent Form(byte[] bytes, string fileName, string declaredType, string part = "file")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(declaredType);
        return new MultipartFormDataContent { { file, part, fileName } };
    }

    public static Task<HttpResponseMessage> PostAsync(Api api, HttpContent content, Account account)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.Attachments) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessToken);
        return api.Http.SendAsync(request);
    }

    public static Task<HttpResponseMessage> UploadAsync(this Api api, Account account, byte[] bytes, string fileName, string declaredType = "application/octet-stream") =>
        PostAsync(api, Form(bytes, fileName, declaredType), account);

    /// <summary>Uploads and asserts 201: the attachment.</summary>
    public static async Task<JsonNode> UploadedAsync(this Api api, Account account, byte[] bytes, string fileName, string declaredType = "application/octet-stream")
    {
        var response = await api.UploadAsync(account, bytes, fileName, declaredType);
        await response.ShouldHaveStatus(System.Net.HttpStatusCode.Created);
        return await response.Json();
    }

    public static Task<HttpResponseMessage> GetAsync(Api api, Account account, string path, Action<HttpRequestHeaders>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.AccessToken);
        headers?.Invoke(request.Headers);
        return api.Http.SendAsync(request);
    }

    public static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(200, 30, 30, 255));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    public static byte[] Jpeg(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(20, 120, 200));
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        return stream.ToArray();
    }

    public static byte[] Encoded(string format, int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(10, 200, 90, 255));
        using var stream = new MemoryStream();
        if (format == "gif")
        {
            image.SaveAsGif(stream);
        }
        else
        {
            image.SaveAsWebp(stream);
        }
        return stream.ToArray();
    }

    /// <summary>A PNG of a few dozen bytes whose header declares <paramref name="width"/> x <paramref name="height"/> pixels (a decompression bomb's shape).</summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, System.IO.Hashing.Crc32.HashToUInt32(typed));
        png.Write(word);
    }

    /// <summary>The files of the instance's attachment store.</summary>
    public static string[] StoredFiles(AppFactory instance) =>
        Directory.GetFiles(((LocalAttachmentStore)instance.Services.GetRequiredService<IAttachmentStore>()).Directory).Select(Path.GetFileName).ToArray()!;
}
