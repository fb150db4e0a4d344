# cairn — set-up, run, test.  The README's two quick-start lines are `make run`
# and `make test`; each does every install step it needs on a fresh Debian.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: the build needs a C compiler, Python headers and
# libnghttp2 (gRPC's HTTP/2); the tests and benchmarks drive real etcd tools
# beside cairn (h2load, from nghttp2-client, loads the gRPC port).
BUILD_PKGS := build-essential pkg-config libnghttp2-dev
TEST_PKGS  := etcd-client etcd-server prometheus curl nghttp2-client
BENCH_PKGS := etcd-server wrk nghttp2-client

DATA_DIR ?= default.cairn

# etcd's Python gRPC clients, each in a virtual environment of its own (their
# protobuf and grpcio pins cannot share one, nor cairn's); the tests in
# tests/compat/test_python_grpc_clients.py run their scenario scripts there.
CLIENT_VENVS   ?= .venv-clients
PYTHON_CLIENTS := etcd3 aetcd
CLIENT_PINS    := tests/compat/python_clients
CLIENT_ENV      = CAIRN_CLIENT_VENVS=$(abspath $(CLIENT_VENVS)) CAIRN_REQUIRE_CLIENT_VENVS=1

.PHONY: run test test-all build system-build system-test system-bench venv client-venvs bench bench-cluster bench-grpc \
        bench-grpc-cluster sim clean

run: venv
	$(BIN)/cairn serve --data-dir $(DATA_DIR)

test: venv system-test client-venvs
	$(CLIENT_ENV) $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-all: venv system-test client-venvs
	$(CLIENT_ENV) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: venv system-bench
	$(BIN)/python bench/gateway.py $(BENCH_ARGS)

bench-cluster: venv system-bench
	$(BIN)/python bench/gateway.py --members 3 --cells put,range $(BENCH_ARGS)

# gRPC, loaded by h2load: put and range at 256 and 1 calls in flight
bench-grpc: venv system-bench
	$(BIN)/python bench/grpc_kv.py --rounds 2 $(BENCH_ARGS)

bench-grpc-cluster: venv system-bench
	$(BIN)/python bench/grpc_kv.py --members 3 --rounds 2 $(BENCH_ARGS)

# the long mode of the Raft simulation: 10,000 seeded schedules
sim: venv
	$(BIN)/python -m tests.sim --seeds $(or $(SEEDS),10000)

# apt is asked only for what is missing, and refreshes its lists once if a
# package cannot be found.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
	  || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }; \
	fi
endef

system-build:
	$(call apt_install,$(BUILD_PKGS))

system-test: system-build
	$(call apt_install,$(TEST_PKGS))

system-bench: system-build
	$(call apt_install,$(BENCH_PKGS))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel "Cython>=3.0"

# Dependencies and the editable install (extensions skipped here: they are
# built once, below, and rebuilt whenever a native source changes).
$(VENV)/.deps: $(BIN)/python pyproject.toml
	CAIRN_SKIP_EXTENSIONS=1 $(BIN)/pip install -q --no-build-isolation -e ".[test]"
	touch $@

$(VENV)/.installed: $(VENV)/.deps setup.py $(shell find native -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.h' 2>/dev/null)
	$(BIN)/python setup.py -q build_ext --inplace
	touch $@

venv: system-build $(VENV)/.installed

# Made afresh when its pins change; the import proves the pins fit together.
$(CLIENT_VENVS)/%/.installed: $(CLIENT_PINS)/requirements-%.txt
	rm -rf $(CLIENT_VENVS)/$*
	$(PYTHON) -m venv $(CLIENT_VENVS)/$*
	$(CLIENT_VENVS)/$*/bin/pip install -q -r $<
	$(CLIENT_VENVS)/$*/bin/python -c "import $*"
	touch $@

client-venvs: $(foreach c,$(PYTHON_CLIENTS),$(CLIENT_VENVS)/$(c)/.installed)

build: venv

clean:
	rm -rf build $(VENV) $(CLIENT_VENVS) src/*.egg-info
	find src -name '*.so' -delete
