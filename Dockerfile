# One image, two roles: `recover bot` (Slack-facing, no production credentials; the default,
# as the non-root user `recover`) and `recover runner` / `recover wal-agent` (privileged:
# PostgreSQL tools, storage access; run them as root, `docker run --user root`, because they
# start PostgreSQL as the `postgres` user with runuser and own the restore directories).
# scripts/image-layout.ts builds the same /app without Docker and starts it;
# test/unit/devkit/dockerfile.test.ts checks the paths below.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Only what the bundle is built from (.dockerignore keeps a host's node_modules, dist and .git out).
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY bin ./bin
COPY src ./src
COPY commands ./commands
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# postgresql-common first, told not to create a `main` cluster: the package would otherwise
# initdb /var/lib/postgresql/15/main, a server nobody uses, in every container.
# tini is PID 1: the runner starts postmasters (pg_ctl detaches them), and it reaps them
# when they exit and passes SIGTERM on to node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-common \
 && sed -ri 's/^#?\s*create_main_cluster\b.*$/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-client-15 tar zstd lz4 libarchive-tools tini \
 && rm -rf /var/lib/apt/lists/* \
 && test ! -e /var/lib/postgresql/15/main \
 && groupadd --system --gid 10001 recover \
 && useradd --system --uid 10001 --gid recover --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin recover
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/package.json ./
ENV NODE_ENV=production RECOVER_HEALTH_PORT=3000
# The bot's signed Slack requests (SLACK_PORT) and GET /healthz, /readyz (RECOVER_HEALTH_PORT).
EXPOSE 3000
# Process alive (/healthz answers without calling anything): never "unhealthy" because the
# control DB is away. Slim has no curl; node's fetch does it. Nothing listens for one-off
# commands or `recover wal-agent`: run those with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.RECOVER_HEALTH_PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/recover.mjs"]
CMD ["--help"]
