namespace SliceChat.Infrastructure.Realtime;

/// <summary>The socket protocol as the docs page shows it (OpenAPI cannot describe WebSocket frames).</summary>
public static class SocketProtocolDoc
{
    public const string Markdown = """
        REST and WebSocket API of SliceChat. Authorize with the login route (OAuth2 password flow).

        ## WebSocket
        `GET /ws/chat` carries every conversation of the user; `GET /ws/chatrooms/{chatroom_id}` (alias
        `/api/v1/ws/chatrooms/{chatroom_id}`) one room. Token by `Authorization: Bearer` or `?token=`; a bad token
        answers 401, an invisible room 404 and a non-member 403, before the upgrade.

        Server → client (one JSON object per text frame, always with `type`): `ready {user_id, connection_id}` first;
        `message.created`, `message.updated`, `message.deleted` (message fields at top level); `typing {chatroom_id,
        user_id, username}`; `read {chatroom_id, user_id, seq}`; `member.joined` / `member.left {chatroom_id, user_id,
        username}`; `chatroom.deleted {chatroom_id}`; `presence {user_id, status: "online"|"offline", last_seen_at}` (on
        `/ws/chat`, for direct partners and subscribed users, once per change); `pong`; `error {code, message, client_message_id?}`.

        Client → server: `{recipient_id, content, client_message_id?, attachment_ids?}` (a DM); `{content,
        client_message_id?, attachment_ids?}` on a room socket; `{type: "message.send", chatroom_id, content,
        client_message_id?, attachment_ids?}` (`attachment_ids`: at most 10 of the user's unused uploads; `content` may
        then be empty); `{type: "typing", chatroom_id}`;
        `{type: "read", chatroom_id, seq}`; `{type: "sync", chatroom_id, after_seq}` (replays what was missed, then live
        events continue in order); `{type: "auth", token}` (a fresh access token extends the socket); `{type: "presence.subscribe", user_ids}` /
        `{type: "presence.unsubscribe", user_ids}` (on `/ws/chat`: users who share a conversation, at most 200); `{type: "ping"}`.

        Within a conversation `message.created` events arrive in `seq` order, each once, with no gaps. Close codes:
        1000 normal, 1001 shutting down, 1008 policy, 1009 frame over 16 KiB, 1011 internal, 1013 reading too slowly
        (reconnect and `sync`), 4401 token expired or revoked, 4403 removed from the room of a room socket.
        """;
}
