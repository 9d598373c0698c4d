using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SliceChat.Features.Realtime.Socket;

namespace SliceChat.Tests.Fuzz;

/// <summary>A generated client frame and the socket it goes to.</summary>
public sealed record FrameCase(int Number, InputClass Class, string Template, bool ToRoomSocket, WebSocketMessageType Type, byte[] Bytes)
{
    public override string ToString()
    {
        var text = Encoding.UTF8.GetString(Bytes);
        return $"#{Number} {Class} on a {Template} frame to the {(ToRoomSocket ? "room" : "user")} socket ({Type}): "
            + (text.Length > 200 ? text[..200] + $"… ({Bytes.Length} bytes)" : text);
    }
}

/// <summary>
/// Malformed frames of every client frame type of the protocol. The fields and their JSON types come from
/// <see cref="ClientFrame"/>; each case breaks a field of the frame for sure, or the whole frame, so none may store anything.
/// </summary>
public sealed class SocketFuzz(Fuzzer fuzz, Guid room, Guid partner, string token)
{
    private int number;

    /// <summary>ClientFrame's properties by their wire name, with the JSON type each takes.</summary>
    private static readonly Dictionary<string, FieldKind> Fields = typeof(ClientFrame).GetProperties().ToDictionary(
        p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name),
        p => (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType) switch
        {
            var t when t == typeof(Guid) => FieldKind.Uuid,
            var t when t == typeof(long) => FieldKind.WholeNumber,
            var t when t == typeof(string) => FieldKind.Text,
            var t when t == typeof(List<Guid>) || t == typeof(IReadOnlyList<Guid>) => FieldKind.UuidArray,
            var t => throw new NotSupportedException($"{p.Name}: no fuzz values for {t}"),
        });

    private static readonly string[] UnknownTypes =
        ["PING", "ping ", " ping", "message.send\u0000", "message", "", "typing.start", "presence", "\u00e9", new string('t', 2000)];

    /// <summary>
    /// One valid-looking frame per type the protocol lists (the untyped DM and room sends included), and the socket
    /// it goes to: null for either. A DM goes to the user socket only: without its recipient_id it would be a room send.
    /// </summary>
    private List<(string Template, bool? RoomSocket, List<(string Name, object? Value)> Fields)> Templates() =>
    [
        ("dm", false, [("recipient_id", partner), ("content", "fuzz"), ("client_message_id", "c-1")]),
        ("room", true, [("content", "fuzz"), ("client_message_id", "c-2")]),
        ("message.send", null, [("type", "message.send"), ("chatroom_id", room), ("content", "fuzz"), ("client_message_id", "c-3")]),
        ("typing", null, [("type", "typing"), ("chatroom_id", room)]),
        ("read", null, [("type", "read"), ("chatroom_id", room), ("seq", 1)]),
        ("sync", null, [("type", "sync"), ("chatroom_id", room), ("after_seq", 0)]),
        ("auth", null, [("type", "auth"), ("token", token)]),
        ("ping", null, [("type", "ping")]),
        ("presence.subscribe", null, [("type", "presence.subscribe"), ("user_ids", new[] { partner })]),
        ("presence.unsubscribe", null, [("type", "presence.unsubscribe"), ("user_ids", new[] { partner })]),
    ];

    public IEnumerable<FrameCase> Cases(int perTemplate)
    {
        foreach (var (template, roomSocket, fields) in Templates())
        {
            for (var i = 0; i < perTemplate; i++)
            {
                var toRoom = roomSocket ?? fuzz.Chance(0.5);
                var raw = fields.Select(f => (f.Name, Fuzzer.Json(f.Value))).ToList();
                if (fuzz.Chance(0.7))
                {
                    var (chosen, bytes) = Mutated(raw);
                    yield return new FrameCase(++number, chosen, template, toRoom, WebSocketMessageType.Text, bytes);
                }
                else if (fuzz.Chance(0.8))
                {
                    var (chosen, bytes) = fuzz.MalformedDocument(Fuzzer.ObjectOf(raw));
                    yield return new FrameCase(++number, chosen, template, toRoom, WebSocketMessageType.Text, bytes);
                }
                else
                {
                    yield return new FrameCase(++number, InputClass.BinaryFrame, template, toRoom, WebSocketMessageType.Binary,
                        fuzz.Chance(0.5) ? Fuzzer.ObjectOf(raw) : fuzz.RandomBytes());
                }
            }
        }
    }

    /// <summary>One field of the frame broken (its type a string no handler takes), sometimes with unknown fields and a protocol field of the wrong JSON type.</summary>
    private (InputClass, byte[]) Mutated(List<(string Name, byte[] Value)> frame)
    {
        var target = fuzz.Next(frame.Count);
        var name = frame[target].Name;
        var (chosen, value) = name == "type" && fuzz.Chance(0.5)
            ? (InputClass.UnknownType, Fuzzer.Json(fuzz.Pick(UnknownTypes)))
            : fuzz.InvalidValue(Fields[name], nullable: name is "type" or "client_message_id"); // null there is another valid frame
        frame[target] = (name, value);
        if (fuzz.Chance(0.3))
        {
            frame.AddRange(fuzz.UnknownFields());
        }
        if (fuzz.Chance(0.2) && Fields.Keys.Except(frame.Select(f => f.Name)).ToList() is { Count: > 0 } absent)
        {
            var extra = fuzz.Pick(absent);
            frame.Add((extra, fuzz.Pick(Fuzzer.WrongTypes(Fields[extra]))));
        }
        return (chosen, Fuzzer.ObjectOf(frame.OrderBy(_ => fuzz.Next(100))));
    }
}
