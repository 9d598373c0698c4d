namespace SliceChat.Infrastructure.Slices;

/// <summary>One use case's HTTP endpoint. <see cref="EndpointDiscovery"/> finds every implementation at start-up.</summary>
public interface IEndpoint
{
    static abstract void Map(IEndpointRouteBuilder app);
}
