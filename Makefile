# Two entry points: `make run` starts the whole stack, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := telemetry_common telemetry_stack generator_service refresher_worker api_service

.PHONY: run test tools lint unit integration bench compose-up compose-down clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/telemetry up

test: tools lint $(STAMP)
	$(BIN)/python -m pytest

# What the tests need beyond Python, checked before anything runs: one command fixes it.
tools:
	@command -v redis-server >/dev/null 2>&1 && { command -v chromium || command -v chromium-browser \
		|| command -v google-chrome; } >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || { \
		echo "make test needs redis-server (the Sentinel and Cluster tests), Chromium (the"; \
		echo "dashboard's browser tests) and Docker (the container tests: a private dockerd, and"; \
		echo "mmdebstrap for images from Debian's packages). On Debian or Ubuntu, install them with:"; \
		echo "    sudo apt-get install redis-server chromium docker.io mmdebstrap"; exit 2; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# the same code as Windows and macOS see it (their os and signal modules differ)
	$(BIN)/mypy --platform win32 --cache-dir .mypy_cache/win32 $(PACKAGES)
	$(BIN)/mypy --platform darwin --cache-dir .mypy_cache/darwin $(PACKAGES)

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not network and not docker"

integration: $(STAMP)
	$(BIN)/python -m pytest -m integration

# compose.yaml on this machine (docs/containers.md): a private dockerd if none answers, images
# made from Debian's packages if the public ones cannot be pulled, the proxy on 127.0.0.1:8080.
compose-up: $(STAMP)
	$(BIN)/telemetry compose up

compose-down: $(STAMP)
	$(BIN)/telemetry compose down

bench: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
