# One image for every service of compose.yaml; the command picks the role:
#   telemetry generator | telemetry refresher | telemetry api
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# The package and its runtime dependencies only (no dev extra), installed from this repository.
COPY pyproject.toml README.md ./
COPY telemetry_common ./telemetry_common
COPY telemetry_stack ./telemetry_stack
COPY generator_service ./generator_service
COPY refresher_worker ./refresher_worker
COPY api_service ./api_service
RUN pip install . \
    && rm -rf /src \
    && useradd --system --no-create-home --uid 10001 --shell /usr/sbin/nologin telemetry

WORKDIR /
USER telemetry

# Inside a container every server listens on all interfaces; compose.yaml sets the same.
ENV TELEMETRY_GENERATOR_BIND=0.0.0.0:9001 \
    TELEMETRY_API_BIND=0.0.0.0:8080
EXPOSE 8080 9001

CMD ["telemetry", "api"]
