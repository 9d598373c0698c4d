using System.Reflection;

namespace SliceChat.Infrastructure.Slices;

public static class EndpointDiscovery
{
    public static IReadOnlyList<Type> EndpointTypes { get; } = typeof(EndpointDiscovery).Assembly
        .GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsAssignableTo(typeof(IEndpoint)))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .ToList();

    /// <summary>Calls every slice's static <c>Map</c>; a slice that fails to map stops start-up and is named.</summary>
    public static IEndpointRouteBuilder MapSlices(this IEndpointRouteBuilder app)
    {
        foreach (var type in EndpointTypes)
        {
            var map = type.GetMethod(nameof(IEndpoint.Map), BindingFlags.Public | BindingFlags.Static, [typeof(IEndpointRouteBuilder)])
                ?? throw new InvalidOperationException($"{type.FullName} implements IEndpoint but has no public static Map.");
            try
            {
                map.Invoke(null, [app]);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw new InvalidOperationException($"Mapping {type.FullName} failed: {e.InnerException.Message}", e.InnerException);
            }
        }
        return app;
    }
}
