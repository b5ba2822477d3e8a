# One image for the api, worker, bank simulator and setup services (see docker-compose.yml).
# TypeScript runs through @swc-node/register; there is no separate build step.
FROM node:20.20.2-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
USER node
CMD ["node", "-r", "@swc-node/register", "api/main.ts"]
