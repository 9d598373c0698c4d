# syntax=docker/dockerfile:1

# ---- build ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project files only, so the package layer is cached
# until a package reference changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/SliceChat/SliceChat.csproj src/SliceChat/Runtime.props src/SliceChat/
RUN dotnet restore src/SliceChat/SliceChat.csproj

COPY src/SliceChat/ src/SliceChat/
# Drop any bin/obj that came along from a developer checkout (there is no
# .dockerignore); publish re-runs restore, which hits the cached packages above.
RUN rm -rf src/SliceChat/bin src/SliceChat/obj \
 && dotnet publish src/SliceChat/SliceChat.csproj -c Release -o /app /p:UseAppHost=false

# ---- runtime ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./

ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080

# Non-root user shipped with the .NET images (uid 1654).
USER $APP_UID

ENTRYPOINT ["dotnet", "SliceChat.dll"]
