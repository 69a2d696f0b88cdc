# syntax=docker/dockerfile:1

# ---- build: install every dependency, compile TypeScript, copy the Lua scripts into dist ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The image's npm (10.x) ignores package.json "allowScripts" (an npm 11 field); the only package with an
# install script, @parcel/watcher (dev only), does nothing on install unless asked to build from source.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# nest-cli.json copies src/queue/lua/**/*.lua into dist as assets; the service cannot start without them.
RUN npm run build \
 && test -f dist/main.js \
 && test -f dist/queue/lua/fetch.lua \
 && test -f dist/queue/lua/lib/common.lua

# ---- runtime: production dependencies and the compiled app, run as the unprivileged user "node" ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root (read-only for the app); the process runs as "node".
USER node
EXPOSE 8080
# Liveness only (never depends on Redis). Slim images have no curl, so node's built-in fetch does it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SERVER_PORT || 8080) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
