# One image for the three services (intake, escalation, reporting) and their CLIs.
# Front-end assets (ECharts) are installed at build time and served by reporting: no CDN at run time.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    XINFANG_COUNTY_FILE=/app/deploy/counties/demo.yaml
# fonts-arphic-uming: the font intake embeds in the notices' PDF (intake/notices/render.py)
RUN apt-get update && apt-get install -y --no-install-recommends librocksdb7.8 tzdata fonts-arphic-uming \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app --uid 10001 xinfang
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY deploy/counties deploy/counties
COPY docs docs
RUN pip install .
COPY --from=assets /build/node_modules node_modules
RUN mkdir -p /app/var && chown -R xinfang /app/var
USER xinfang
# The command picks the service: python -m intake | python -m escalation worker | python -m reporting
CMD ["python", "-m", "intake"]
