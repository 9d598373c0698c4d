using System.Text.Json;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>The routing fields of an event frame, read without deserialising the rest of it.</summary>
public readonly record struct FrameHeader(string? Type, long? Seq, Guid? UserId, DateTimeOffset? CreatedAt = null)
{
    /// <param name="withCreatedAt">Also read <c>created_at</c> (a date parse: only while fan-out latency is measured).</param>
    public static FrameHeader Read(ReadOnlySpan<byte> frame, bool withCreatedAt = false)
    {
        string? type = null;
        long? seq = null;
        Guid? userId = null;
        DateTimeOffset? createdAt = null;
        var reader = new Utf8JsonReader(frame);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("type"u8) && reader.TokenType == JsonTokenType.String)
            {
                type = reader.GetString();
            }
            else if (name.SequenceEqual("seq"u8) && reader.TokenType == JsonTokenType.Number)
            {
                seq = reader.GetInt64();
            }
            else if (name.SequenceEqual("user_id"u8) && reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var id))
            {
                userId = id;
            }
            else if (withCreatedAt && name.SequenceEqual("created_at"u8) && reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var at))
            {
                createdAt = at;
            }
            else
            {
                reader.Skip();
            }
        }
        return new FrameHeader(type, seq, userId, createdAt);
    }
}
