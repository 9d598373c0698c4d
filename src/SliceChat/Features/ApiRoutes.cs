using System.Globalization;
using System.Text.RegularExpressions;

namespace SliceChat.Features;

/// <summary>
/// Every route of the contract, once. Slices declare theirs from here, link to others' (Location headers)
/// without referencing another slice, and tests call them through <see cref="Fill"/>.
/// </summary>
public static partial class ApiRoutes
{
    public const string Register = "/api/v1/auth/register";
    public const string Signup = "/api/v1/auth/signup";
    public const string Login = "/api/v1/auth/login";
    public const string Refresh = "/api/v1/auth/refresh";
    public const string Logout = "/api/v1/auth/logout";
    public const string LogoutAll = "/api/v1/auth/logout/all";
    public const string AuthMe = "/api/v1/auth/me";

    public const string Me = "/api/v1/users/me";
    public const string Sessions = "/api/v1/users/me/sessions";
    public const string Session = "/api/v1/users/me/sessions/{id:guid}";
    public const string Users = "/api/v1/users";
    public const string User = "/api/v1/users/{id:guid}";
    public const string UsersPresence = "/api/v1/users/presence";

    public const string Chatrooms = "/api/v1/chatrooms";
    public const string Chatroom = "/api/v1/chatrooms/{id:guid}";
    public const string JoinChatroom = "/api/v1/chatrooms/{id:guid}/join";
    public const string LeaveChatroom = "/api/v1/chatrooms/{id:guid}/leave";
    public const string Members = "/api/v1/chatrooms/{id:guid}/members";
    /// <summary><c>user_id</c> is a user's id or <c>me</c>.</summary>
    public const string Member = "/api/v1/chatrooms/{id:guid}/members/{user_id}";
    public const string ChatroomMessages = "/api/v1/chatrooms/{id:guid}/messages";
    public const string ReadMarker = "/api/v1/chatrooms/{id:guid}/read";
    public const string Membership = "/api/v1/chatrooms/{id:guid}/membership";

    public const string DirectMessages = "/api/v1/messages/dm";
    public const string DirectHistory = "/api/v1/messages/dm/{user_id:guid}";
    public const string Message = "/api/v1/messages/{id:guid}";
    public const string Conversations = "/api/v1/messages/conversations";
    public const string ConversationsAlias = "/api/v1/conversations";

    public const string Attachments = "/api/v1/attachments";
    public const string Attachment = "/api/v1/attachments/{id:guid}";
    public const string AttachmentThumbnail = "/api/v1/attachments/{id:guid}/thumbnail";

    public const string UserSocket = "/ws/chat";
    public const string RoomSocket = "/ws/chatrooms/{chatroom_id:guid}";
    public const string RoomSocketAlias = "/api/v1/ws/chatrooms/{chatroom_id:guid}";

    /// <summary><c>Fill(ApiRoutes.Member, roomId, "me")</c> = <c>/api/v1/chatrooms/{roomId}/members/me</c>: parameters in order.</summary>
    public static string Fill(string route, params object[] values)
    {
        var index = 0;
        var path = Parameter().Replace(route, _ => index < values.Length
            ? Uri.EscapeDataString(Convert.ToString(values[index++], CultureInfo.InvariantCulture)!)
            : throw new ArgumentException($"{route} needs more than {values.Length} values.", nameof(values)));
        return index == values.Length ? path : throw new ArgumentException($"{route} takes {index} values, not {values.Length}.", nameof(values));
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
