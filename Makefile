# The two entry points of the README. Both set up everything they need on a fresh machine.
#   make generate   install the compiler (into .venv) and regenerate every SDK from the IDL
#   make test       install the test toolchain and run the whole suite (tox)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
IDL    := api/clutchcall.json

.PHONY: generate test venv engine system-deps core-test moq-relay semantic-model check bench clean core-module demo

$(BIN)/apirpc-compiler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]' tox
	touch $@

venv: $(BIN)/apirpc-compiler

# The engine and the packages it stands on, editable: the generated SDK (generated/python), the MoQT
# runtime (runtime/python) and the engine itself (console script clutchcall-engine).
ENGINE_PACKAGES := generated/python runtime/python engine
$(VENV)/.engine-installed: $(BIN)/apirpc-compiler $(ENGINE_PACKAGES:%=%/pyproject.toml)
	$(BIN)/pip install --quiet $(ENGINE_PACKAGES:%=-e %)
	touch $@

engine: $(VENV)/.engine-installed

generate: venv engine
	$(BIN)/apirpc-compiler validate $(IDL)
	$(BIN)/apirpc-compiler generate $(IDL) --out generated

# Debian packages the tests need: protoc (the .proto target's oracle and benchmark peer), Mono
# (builds and runs the C# SDK), the C++ core's toolchain and libraries (see core/README.md),
# clang-format (the C++ SDK's formatter check), SIPp (sip-tester: the carrier in the SIP gateway's
# tests), espeak-ng and sox (the agents' speech fixtures and `make demo`'s caller), rtpengine-daemon
# (the AudioBridge benchmark's peer, user space only). Go, Rust, Java 17 with Maven and Node 20 come
# with the machine.
APT_PACKAGES := protobuf-compiler mono-devel cmake ninja-build g++ libgtest-dev clang clang-format \
                libopus-dev libspeexdsp-dev libxdp-dev libbpf-dev liburing-dev iproute2 sip-tester \
                espeak-ng sox rtpengine-daemon
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

test: venv system-deps core-test core-module moq-relay semantic-model
	CLUTCHCALL_CORE_PKG=$(CORE_PKG) $(BIN)/tox run -e tests,lint,generate-check,breaking

# moq-relay (crates.io, the moq-dev relay): the engine's interop peer and benchmark peer. Built once per
# machine into a cache outside the clone (MOQ_RELAY_ROOT), so every fresh clone (CI) reuses it; the tests and
# the relay benchmark get its path from $$MOQ_RELAY (exported here, passed through tox).
# Not --locked: its Cargo.lock pins webpki-roots 1.0.11, which the crates.io index reachable here lacks.
# Only the raw-QUIC listener (feature noq); iroh, mDNS clustering, websocket and unix sockets are left out.
# A cold build takes about 8 minutes on 2 cores.
MOQ_RELAY_VERSION := 0.17.10
MOQ_RELAY_ROOT ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/clutchcall/moq-relay-$(MOQ_RELAY_VERSION)
MOQ_RELAY ?= $(MOQ_RELAY_ROOT)/bin/moq-relay
export MOQ_RELAY
$(MOQ_RELAY):
	cargo install --quiet moq-relay@$(MOQ_RELAY_VERSION) --no-default-features --features noq \
	  --root $(MOQ_RELAY_ROOT) --target-dir $(MOQ_RELAY_ROOT)/build -j2

moq-relay: $(MOQ_RELAY)

# Smart Turn v3.2, the end-of-turn model of turn-detection mode semantic: its ONNX file comes in the pinned
# pipecat-ai wheel (from PyPI; pipecat itself is not installed), checked against its SHA-256 and kept in a cache
# outside the clone ($$CLUTCHCALL_SMART_TURN_DIR, default ~/.cache/clutchcall/smart-turn-pipecat-<version>).
semantic-model: venv engine
	$(BIN)/python -m clutchcall_engine.agents.smart_turn

# The C++ core: the GoogleTest suites in a normal build, again under ASan+UBSan, the libFuzzer
# targets (clang) for a bounded smoke run each (ctest entries `<fuzzer>_smoke`), and the
# concurrent suites (ctest label `tsan`) under ThreadSanitizer.
CORE_CMAKE := cmake -S core -G Ninja -Wno-dev
core-test:
	$(CORE_CMAKE) -B build/core >/dev/null
	cmake --build build/core
	ctest --test-dir build/core --output-on-failure
	$(CORE_CMAKE) -B build/core-asan -DCLUTCHCALL_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build/core-asan
	ctest --test-dir build/core-asan --output-on-failure
	$(CORE_CMAKE) -B build/core-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
	  -DCLUTCHCALL_FUZZ=ON -DCLUTCHCALL_SANITIZE=address,undefined >/dev/null
	cmake --build build/core-fuzz
	ctest --test-dir build/core-fuzz --output-on-failure
	$(CORE_CMAKE) -B build/core-tsan -DCLUTCHCALL_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/core-tsan --target ring_test relay_test threads_test
	ctest --test-dir build/core-tsan -L tsan --output-on-failure

# The core's Python module (clutchcall_core: G.711, Opus, resampler, RTP) built in place, for the engine's
# transcoding when run from the tree: put build/bindings/pkg on PYTHONPATH (as tests/core's CLUTCHCALL_CORE_PKG).
# `make test` builds it once and hands it to every test directory through CLUTCHCALL_CORE_PKG.
CORE_PKG := $(CURDIR)/build/bindings/pkg
core-module: venv
	cmake -S bindings -B build/bindings -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
	  -DPython_EXECUTABLE=$(abspath $(BIN)/python) -Dpybind11_DIR=$$($(BIN)/python -m pybind11 --cmakedir) >/dev/null
	cmake --build build/bindings -j2

# One whole call, printed as it happens: the engine with its SIP gateway, SIPp as the carrier, a call
# originated through the Python SDK, the example agent bound, espeak-ng speech as the caller (README).
demo: venv engine system-deps core-module
	PYTHONPATH=$(CORE_PKG) $(BIN)/python engine/examples/demo/demo.py

check: venv
	$(BIN)/apirpc-compiler generate $(IDL) --out generated --check

bench: venv engine system-deps moq-relay
	$(BIN)/python benchmarks/relay/bench_relay.py
	cmake -S bindings -B build/bench-bindings -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(abspath $(BIN)/python) \
	  -Dpybind11_DIR=$$($(BIN)/python -m pybind11 --cmakedir) >/dev/null && cmake --build build/bench-bindings -j2
	CLUTCHCALL_CORE_PKG=build/bench-bindings/pkg $(BIN)/python benchmarks/bridge/bench_bridge.py
	CLUTCHCALL_CORE_PKG=build/bench-bindings/pkg $(BIN)/python benchmarks/bridge/bench_sip_legs.py
	CLUTCHCALL_CORE_PKG=build/bench-bindings/pkg $(BIN)/python benchmarks/fastpath/bench_rtpengine.py  # root: veth, netns, XDP
	$(BIN)/python benchmarks/bench_compile.py
	$(BIN)/python benchmarks/bench_python_codec.py
	$(BIN)/pip install --quiet aiohttp  # the control-plane benchmark's peer
	$(BIN)/python benchmarks/calls/bench_control.py
	$(CORE_CMAKE) -B build/bench -DCLUTCHCALL_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/bench --target bench_fastpath && build/bench/benchmarks/fastpath/bench_fastpath

clean:
	rm -rf $(VENV) .tox build *.egg-info
