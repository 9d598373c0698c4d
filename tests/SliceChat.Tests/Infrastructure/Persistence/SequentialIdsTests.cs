using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Tests.Infrastructure.Persistence;

public sealed class SequentialIdsTests
{
    [Fact]
    public void IdsMadeWithinOneMillisecond_IncreaseInTheOrderTheyWereMade_AsPostgresAndSqliteCompareThem()
    {
        // 20,000 ids take a few milliseconds: thousands share each one, and the 4,096 a millisecond holds run out.
        var ids = Enumerable.Range(0, 20_000).Select(_ => SequentialIds.Next()).ToList();
        for (var i = 1; i < ids.Count; i++)
        {
            ids[i].CompareTo(ids[i - 1]).ShouldBePositive();
            // PostgreSQL compares uuid bytes in RFC order; SQLite compares the text EF stores.
            ids[i].ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(ids[i - 1].ToByteArray(bigEndian: true)).ShouldBePositive();
            string.CompareOrdinal(ids[i].ToString().ToUpperInvariant(), ids[i - 1].ToString().ToUpperInvariant()).ShouldBePositive();
        }
        ids.ShouldAllBe(id => id.Version == 7 && (id.Variant & 0xC) == 0x8);
    }

    [Fact]
    public void AnId_CarriesTheTimeItWasMade()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var bytes = SequentialIds.Next().ToByteArray(bigEndian: true);
        var milliseconds = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        // Ahead by at most the milliseconds a burst of over 4,096 ids borrowed (the other test makes one).
        milliseconds.ShouldBeInRange(before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 50);
    }
}
