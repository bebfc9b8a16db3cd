# Sluice server image. Multi-stage: dependencies are cached in the build stage and copied; the
# runtime runs as a non-root user with a health check.
FROM node:20-bookworm-slim AS build
RUN npm install -g deno@2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY core ./core
COPY sdk ./sdk
COPY plugins ./plugins
COPY pipelines ./pipelines
COPY web ./web
ENV DENO_DIR=/deno-dir
# Cache every npm dependency (host and plugins) so plugin sandboxes can run --cached-only. The
# sandbox resolves without the lockfile, so the plugins are cached with --no-lock: that also
# stores the registry records of their packages' own dependencies, which a locked install skips
# (without them the server caches on first use, which needs the npm registry at run time).
RUN deno install && deno cache core/cli.ts && deno cache --no-lock plugins/*/mod.ts

FROM node:20-bookworm-slim
RUN npm install -g deno@2.9.6 && useradd --system --create-home --uid 10001 sluice \
  && printf '#!/bin/sh\ncd /app && exec deno run --allow-all --v8-flags=--max-semi-space-size=8 core/cli.ts "$@"\n' > /usr/local/bin/sluice \
  && chmod 755 /usr/local/bin/sluice
WORKDIR /app
# Everything the server writes lives under /app/data (the volume), the plugin approvals in
# plugins.lock included: /app itself is read-only for the sluice user and replaced on upgrade.
ENV DENO_DIR=/deno-dir SLUICE_SERVER_HOST=0.0.0.0 SLUICE_SERVER_PORT=8080 SLUICE_DATA_DIR=/app/data \
    SLUICE_PLUGINS_LOCK=/app/data/plugins.lock
COPY --from=build /deno-dir /deno-dir
COPY --from=build /app /app
RUN mkdir -p /app/data && chown -R sluice:sluice /app/data /deno-dir
USER sluice
EXPOSE 8080
VOLUME ["/app/data"]
# The check asks the port the server listens on (SLUICE_SERVER_PORT, 8080 when unset), directly:
# NO_PROXY keeps an HTTP_PROXY given to the container (for plugins) out of it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["env", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "deno", "eval", "const port = Deno.env.get('SLUICE_SERVER_PORT') || '8080'; const r = await fetch(`http://127.0.0.1:${port}/healthz`); Deno.exit(r.ok ? 0 : 1)"]
# `sluice` runs core/cli.ts: the command the CLI's own hints name (docker compose exec server sluice …; the compose service is `server`).
ENTRYPOINT ["sluice"]
CMD ["serve"]
