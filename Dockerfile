# One image, two roles: `recover bot` (Slack-facing, no production credentials) and
# `recover runner` / `recover wal-agent` (privileged: PostgreSQL tools, storage access).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-client-15 tar zstd lz4 libarchive-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/package.json ./
ENV NODE_ENV=production
ENTRYPOINT ["node", "/app/bin/recover.mjs"]
CMD ["--help"]
