# One image for every service of compose.yaml; the command picks the role:
#   telemetry generator | telemetry refresher | telemetry api
# BASE_IMAGE is any image with python3 (3.11 or newer) and its venv module: the public
# python:3.12-slim by default, or one made from Debian's packages (docs/containers.md).
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/telemetry/bin:$PATH

WORKDIR /src
# The package and its runtime dependencies only (no dev extra), installed from this repository
# into a virtual environment, whose `python` and `telemetry` come first on PATH.
COPY pyproject.toml README.md ./
COPY telemetry_common ./telemetry_common
COPY telemetry_stack ./telemetry_stack
COPY generator_service ./generator_service
COPY refresher_worker ./refresher_worker
COPY api_service ./api_service
# With WHEELS=1, pip installs from build/wheels alone (the package's wheel and all its
# dependencies, built beforehand for this image's Python), so the build needs no network.
ARG WHEELS=
COPY build/wheel[s] ./wheels/
RUN python3 -m venv /opt/telemetry \
    && if [ -n "$WHEELS" ]; then pip install --no-index --find-links wheels switch-telemetry; \
       else pip install .; fi \
    && rm -rf /src \
    && useradd --system --no-create-home --uid 10001 --shell /usr/sbin/nologin telemetry

WORKDIR /
USER telemetry

# Inside a container every server listens on all interfaces; compose.yaml sets the same.
ENV TELEMETRY_GENERATOR_BIND=0.0.0.0:9001 \
    TELEMETRY_API_BIND=0.0.0.0:8080
EXPOSE 8080 9001

CMD ["telemetry", "api"]
