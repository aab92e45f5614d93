# The two entry points of the README. Both set up everything they need on a fresh machine.
#   make generate   install the compiler (into .venv) and regenerate every SDK from the IDL
#   make test       install the test toolchain and run the whole suite (tox)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
IDL    := api/clutchcall.json

.PHONY: generate test venv system-deps check bench clean

$(BIN)/apirpc-compiler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]' tox
	touch $@

venv: $(BIN)/apirpc-compiler

generate: venv
	$(BIN)/apirpc-compiler validate $(IDL)
	$(BIN)/apirpc-compiler generate $(IDL) --out generated

# protoc (Debian's protobuf-compiler) is the oracle for the .proto target and the benchmark peer.
system-deps:
	@command -v protoc >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq protobuf-compiler; }

test: venv system-deps
	$(BIN)/tox run -e tests,lint,generate-check,breaking

check: venv
	$(BIN)/apirpc-compiler generate $(IDL) --out generated --check

bench: venv system-deps
	$(BIN)/python benchmarks/bench_compile.py
	$(BIN)/python benchmarks/bench_python_codec.py

clean:
	rm -rf $(VENV) .tox build *.egg-info
