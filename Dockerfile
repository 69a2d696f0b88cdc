# syntax=docker/dockerfile:1

# Node 24 LTS (supported until April 2028); Node 20 reached end of life in April 2026. CI tests on the
# oldest line package.json "engines" allows (>=20). Another line: --build-arg NODE_IMAGE=node:<n>-...
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install every dependency, compile TypeScript, copy the Lua scripts into dist ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# --ignore-scripts: no dependency install script is needed to build or run (package.json "allowScripts"
# denies @parcel/watcher and @scarf/scarf; msgpackr-extract is an optional speed-up of a dev-only
# package), and older npm versions that do not read "allowScripts" would run them all.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# nest-cli.json copies src/queue/lua/**/*.lua (the service cannot start without them) and the dashboard's
# files (src/dashboard/public) into dist as assets.
RUN npm run build \
 && test -f dist/main.js \
 && test -f dist/queue/lua/fetch.lua \
 && test -f dist/queue/lua/lib/common.lua \
 && test -f dist/dashboard/public/index.html \
 && test -f dist/dashboard/public/js/app.js

# ---- runtime: production dependencies and the compiled app, run as the unprivileged user "node" ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root (read-only for the app); the process runs as "node" (uid 1000), given by
# number so Kubernetes' runAsNonRoot can check it. The app writes no files (logs go to stdout), so the
# root filesystem can be mounted read-only (deploy/k8s).
USER 1000:1000
EXPOSE 8080
# Liveness only (never depends on Redis). Slim images have no curl, so node's built-in fetch does it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SERVER_PORT || 8080) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
