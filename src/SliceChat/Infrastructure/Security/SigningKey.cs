using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace SliceChat.Infrastructure.Security;

/// <summary>The HS256 key: from <c>Jwt:SigningKey</c>; in Development, generated once and kept in the data folder.</summary>
public sealed class SigningKey(SymmetricSecurityKey key)
{
    public SymmetricSecurityKey Key { get; } = key;

    public static SigningKey Resolve(string? configured, bool isDevelopment, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            var bytes = Encoding.UTF8.GetBytes(configured);
            if (bytes.Length < JwtOptions.MinimumKeyBytes)
            {
                throw new InvalidOperationException($"Jwt:SigningKey must be at least {JwtOptions.MinimumKeyBytes} bytes; it has {bytes.Length}.");
            }
            return new SigningKey(new SymmetricSecurityKey(bytes));
        }
        if (!isDevelopment)
        {
            throw new InvalidOperationException(
                $"Jwt:SigningKey is not set. Outside Development set it (environment variable Jwt__SigningKey) to at least {JwtOptions.MinimumKeyBytes} random bytes.");
        }

        var path = Path.Combine(dataDirectory, "jwt-signing-key");
        if (!File.Exists(path))
        {
            var temporary = path + "." + Guid.NewGuid().ToString("N");
            using (var file = new FileStream(temporary, OwnerOnly(FileMode.CreateNew)))
            using (var writer = new StreamWriter(file))
            {
                writer.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
            }
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException)
            {
                File.Delete(temporary); // another instance wrote it first
            }
        }
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // Keys written before files were created owner-only are tightened too.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            catch (UnauthorizedAccessException)
            {
                // another user's file: readable to us, so it works; its owner keeps charge of its mode
            }
        }
        return new SigningKey(new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(path).Trim())));
    }

    /// <summary>Readable and writable by the app's user alone (0600).</summary>
    private static FileStreamOptions OwnerOnly(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }
}
