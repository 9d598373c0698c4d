namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// Ids of the rows that lists order by id (chatrooms newest first, a message's attachments, login sessions made in the
/// same instant): version 7 UUIDs that also increase within one millisecond on an instance (RFC 9562, 6.2 method 1: a
/// 12-bit counter in <c>rand_a</c>, random bits after it). <see cref="Guid.CreateVersion7()"/> orders only by the
/// millisecond, so two chatrooms created in the same one were listed in either order. Across instances ids order by
/// the millisecond.
/// </summary>
public static class SequentialIds
{
    private const int CounterMax = 0xFFF;
    private static readonly Lock Gate = new();
    private static long lastMilliseconds;
    private static int counter;

    public static Guid Next()
    {
        long milliseconds;
        int sequence;
        lock (Gate)
        {
            milliseconds = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), lastMilliseconds);
            if (milliseconds > lastMilliseconds)
            {
                counter = 0;
            }
            else if (++counter > CounterMax)
            {
                milliseconds++; // 4,096 ids in one millisecond: the next ones borrow the next millisecond
                counter = 0;
            }
            lastMilliseconds = milliseconds;
            sequence = counter;
        }
        Span<byte> bytes = stackalloc byte[16];
        Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)).TryWriteBytes(bytes, bigEndian: true, out _);
        bytes[6] = (byte)(0x70 | (sequence >> 8)); // version 7, then the counter's high 4 bits
        bytes[7] = (byte)sequence;
        return new Guid(bytes, bigEndian: true);
    }
}
