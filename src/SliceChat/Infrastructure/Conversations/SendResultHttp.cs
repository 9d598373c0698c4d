using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

public static class SendResultHttp
{
    /// <summary>201 for a new message, 200 with the original for a repeat, else the contract's problem.</summary>
    public static Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult> ToHttp(SendResult result, HttpContext http) =>
        result.Error switch
        {
            SendError.None when result.Created => TypedResults.Created((string?)null, result.Message),
            SendError.None => TypedResults.Ok(result.Message),
            SendError.NotMember => Problems.Forbidden("You are not a member of this chatroom."),
            SendError.ToSelf => Problems.Invalid("recipient_id", "You cannot send a direct message to yourself."),
            SendError.AttachmentsUnavailable => Problems.Invalid("attachment_ids", MessageRules.AttachmentsUnavailable),
            SendError.RateLimited => Problems.TooManyRequests(http, result.RetryAfter),
            SendError.Overloaded => Problems.Unavailable(http, result.RetryAfter, "Too many messages are waiting to be stored"),
            _ => Problems.NotFound("No such chatroom or user."),
        };
}
