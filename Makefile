# interactd — one plain Makefile.
#   make            build build/interactd, the demo model and the unit tests
#   make run        install what is missing, build, serve on 127.0.0.1:8080
#   make test       unit + e2e, then both again under ASan + UBSan
# LLAMA_PREFIX=/usr/local uses a system llama.cpp (include/, lib/) instead of
# the pinned npm prebuilt.
SHELL := /bin/bash
ROOT  := $(abspath .)
SAN   ?= 0
ifeq ($(SAN),1)
BUILD := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build
SANFLAGS :=
endif
OBJ := $(BUILD)/obj

LLSRC := build/llama.cpp
ifdef LLAMA_PREFIX
LLAMA_INC  := -isystem $(LLAMA_PREFIX)/include
LLAMA_BINS := $(LLAMA_PREFIX)/lib
LLAMA_LIBS := -L$(LLAMA_BINS) -lllama-common -lllama -lggml -lggml-base -Wl,-rpath,$(LLAMA_BINS)
else
LLAMA_BINS := $(ROOT)/deps/npm/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
LLAMA_INC  := -isystem $(LLSRC)/include -isystem $(LLSRC)/ggml/include
LLAMA_LIBS := $(LLAMA_BINS)/libllama-common.so $(LLAMA_BINS)/libllama.v0.4.0.so \
              $(LLAMA_BINS)/libggml.v0.4.0.so $(LLAMA_BINS)/libggml-base.so -Wl,-rpath,$(LLAMA_BINS)
endif
SHIM_INC := -isystem $(LLSRC)/common -isystem $(LLSRC)/vendor -isystem $(LLSRC)/src

DEMO_MODEL := $(ROOT)/build/demo.gguf
CC  ?= gcc
CXX ?= g++
CFLAGS   := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -MMD -MP -Isrc $(LLAMA_INC) $(SANFLAGS) \
            -DIA_BACKENDS_DIR='"$(LLAMA_BINS)"' -DIA_DEMO_MODEL='"$(DEMO_MODEL)"' -DIA_SOURCE_DIR='"$(ROOT)"'
CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -MMD -MP -Isrc $(LLAMA_INC) $(SHIM_INC) $(SANFLAGS)
LDLIBS   := $(LLAMA_LIBS) -lmicrohttpd -ljansson -lsqlite3 -lcrypto -lpthread -lm -lstdc++

LIB_C   := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_CXX := $(wildcard src/*/*.cpp)
LIB_O   := $(LIB_C:%.c=$(OBJ)/%.o) $(LIB_CXX:%.cpp=$(OBJ)/%.o)
UNIT_C  := $(wildcard tests/unit/*.c)
UNIT_O  := $(UNIT_C:%.c=$(OBJ)/%.o)

.DELETE_ON_ERROR:
.PHONY: all deps run test unit e2e check clean bench
all: $(BUILD)/interactd $(BUILD)/unit_tests $(BUILD)/mkdemo build/demo.gguf

# Every compile waits (order-only) for the stamp that scripts/deps.sh has run
# to its end, so `make -j` on a fresh clone installs the headers and the
# llama.cpp source before the first compile starts. The stamp is redone when
# the script or the e2e lock file changes; deps.sh itself is idempotent.
DEPS_STAMP := build/.deps-stamp
deps: $(DEPS_STAMP)
deps-check: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/deps.sh tests/e2e/package-lock.json
	@mkdir -p build
	scripts/deps.sh
	@touch $@

$(OBJ)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/interactd: $(OBJ)/src/cli/main.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_O) $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mkdemo: $(OBJ)/tools/mkdemo.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bare_decode: $(OBJ)/bench/bare_decode.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/grammar_cost: $(OBJ)/bench/grammar_cost.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# The demo model: random weights from a fixed seed, written at build time.
build/demo.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@ --size demo

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	./build/interactd serve $(if $(MODEL),--model $(or $(NAME),$(basename $(notdir $(MODEL))))=$(MODEL)) $(ARGS)

# Sanitizer runs: leaks are errors, except inside the prebuilt llama.cpp
# libraries (tests/lsan.supp says why).
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export LSAN_OPTIONS ?= suppressions=$(ROOT)/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

unit: all
	$(BUILD)/unit_tests

e2e: all
	cd tests/e2e && INTERACTD_BIN=$(ROOT)/$(BUILD)/interactd node --test --test-concurrency=1 --test-reporter=spec *.test.mjs

check: unit e2e fuzz-smoke

test: deps
	@$(MAKE) --no-print-directory check
	@echo "=== again under AddressSanitizer + UBSan ==="
	@$(MAKE) --no-print-directory SAN=1 check

bench: all $(BUILD)/bare_decode
	bench/run.sh

clean:
	rm -rf build/obj build/asan build/interactd build/unit_tests build/mkdemo build/demo.gguf

-include $(shell find build/obj build/asan/obj -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz/README.md) ------------------------------------------
# libFuzzer targets over every parser that takes outside bytes, built with
# clang under ASan + UBSan in a tree of their own (build/fuzz; the sources
# again with -fsanitize=fuzzer-no-link). `make fuzz` runs each for FUZZ_TIME
# seconds from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>);
# `make fuzz-smoke` (part of check) runs each for FUZZ_SMOKE_TIME seconds.
FUZZ_CC         ?= clang
FUZZ_CXX        ?= clang++
FUZZ_TIME       ?= 60
FUZZ_SMOKE_TIME ?= 10
FUZZ_TARGETS := decode_legacy decode_steps schema ids codec chat_parse files
FUZZ_DIR := build/fuzz
FUZZ_OBJ := $(FUZZ_DIR)/obj
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_DEFS := -DIA_FUZZ_TEMPLATES='"$(ROOT)/$(LLSRC)/models/templates"'
FUZZ_CFLAGS   := $(filter-out -O2 $(SANFLAGS),$(CFLAGS)) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(FUZZ_DEFS)
FUZZ_CXXFLAGS := $(filter-out -O2 $(SANFLAGS),$(CXXFLAGS)) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LIB_O := $(LIB_C:%.c=$(FUZZ_OBJ)/%.o) $(LIB_CXX:%.cpp=$(FUZZ_OBJ)/%.o) $(FUZZ_OBJ)/tests/fuzz/fuzz_common.o
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
.PHONY: fuzz fuzz-build fuzz-smoke

$(FUZZ_OBJ)/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OBJ)/%.o: %.cpp | deps-check
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c $< -o $@

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_OBJ)/tests/fuzz/%.o $(FUZZ_LIB_O)
	$(FUZZ_CXX) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS) | build/demo.gguf

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $$t $(FUZZ_TIME) || exit 1; done

# The smoke run is sanitized already: under SAN=1 (make test's second pass)
# it is not repeated.
fuzz-smoke:
ifeq ($(SAN),1)
	@echo "fuzz-smoke: ran in the first pass"
else
	@$(MAKE) --no-print-directory fuzz-build
	@for t in $(FUZZ_TARGETS); do FUZZ_SMOKE=1 tests/fuzz/run.sh $$t $(FUZZ_SMOKE_TIME) || exit 1; done
endif

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
