# interactd — one plain Makefile.
#   make            build build/interactd, the demo model and the unit tests
#   make run        install what is missing, build, serve on 127.0.0.1:8080
#   make test       unit + e2e (+ e2e-pg: the core e2e files on PostgreSQL),
#                   then all again under ASan + UBSan
#   make install    PREFIX=/usr/local DESTDIR=: bin/interactd, lib/interactd/
#                   (llama.cpp's libraries), share/interactd/demo.gguf
# llama.cpp is built from the pinned source (scripts/deps.sh checks it out,
# scripts/llama.sh builds it with cmake) into build/llama-build/KEY, once per
# KEY = commit-CPU[-GPU]: LLAMA_CPU=native (default) or variants, GPU=cuda.
# LLAMA_PREFIX=/usr/local uses a system llama.cpp (include/, lib/) instead.
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
LLAMA_COMMIT := $(shell sed -n 's/^LLAMA_COMMIT=//p' scripts/deps.sh)
LLAMA_CPU ?= native
GPU ?=
CUDA_ARCHS ?=
# From an output folder to the repository root: build/asan -> ../..
empty :=
space := $(empty) $(empty)
updir = $(subst $(space),/,$(patsubst %,..,$(subst /, ,$(1))))
ifdef LLAMA_PREFIX
LLAMA_LIB   := $(LLAMA_PREFIX)/lib
LLAMA_INC   := -isystem $(LLAMA_PREFIX)/include
LLAMA_KEY   := prefix:$(LLAMA_PREFIX)
LLAMA_STAMP :=
llama_rpath  = -Wl,-rpath,$(LLAMA_LIB)
INSTALL_RPATH := -Wl,-rpath,$(LLAMA_LIB)
else
LLAMA_KEY   := $(LLAMA_COMMIT)-$(LLAMA_CPU)$(if $(GPU),-$(GPU))$(if $(CUDA_ARCHS),-$(shell echo '$(CUDA_ARCHS)' | sha256sum | cut -c1-8))
LLAMA_DIR   := build/llama-build/$(LLAMA_KEY)
LLAMA_LIB   := $(LLAMA_DIR)/prefix/lib
LLAMA_INC   := -isystem $(LLAMA_DIR)/prefix/include
LLAMA_STAMP := $(LLAMA_DIR)/.built
# Relative to the binary ($ORIGIN), so no path of the build tree is in it.
llama_rpath  = -Wl,-rpath,'$$ORIGIN/$(call updir,$(@D))/$(LLAMA_LIB)'
INSTALL_RPATH := -Wl,-rpath,'$$ORIGIN/../lib/interactd'
endif
LLAMA_LIBS := -L$(LLAMA_LIB) -lmtmd -lllama-common -lllama -lggml -lggml-base
SHIM_INC := -isystem $(LLSRC)/common -isystem $(LLSRC)/vendor -isystem $(LLSRC)/src

CC  ?= gcc
CXX ?= g++
# Paths in debug info and __FILE__ relative to the repository.
PREFIX_MAP := -ffile-prefix-map=$(ROOT)=.
CFLAGS   := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -MMD -MP -Isrc $(LLAMA_INC) $(SANFLAGS) $(PREFIX_MAP)
CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -MMD -MP -Isrc $(LLAMA_INC) $(SHIM_INC) $(SANFLAGS) $(PREFIX_MAP)
# poppler-glib and cairo (src/core/pdf.c) by pkg-config, each asked once, on
# first use: at the first compile or link, which waits for scripts/deps.sh,
# so a fresh clone's `make` installs the packages before asking. Their
# include folders as -isystem, so that a warning in another release of their
# headers cannot break -Werror (Debian 12's compile clean either way), and
# only for the files that include them.
PDF_CFLAGS = $(eval PDF_CFLAGS := $$(shell pkg-config --cflags poppler-glib cairo | sed 's/-I/-isystem /g'))$(PDF_CFLAGS)
PDF_LIBS = $(eval PDF_LIBS := $$(shell pkg-config --libs poppler-glib cairo))$(PDF_LIBS)
PDF_USERS := src/core/pdf tests/unit/test_pdf
# libxml2's HTML parser (src/tools/html.c: url_context's page text), alike.
XML_CFLAGS = $(eval XML_CFLAGS := $$(shell pkg-config --cflags libxml-2.0 | sed 's/-I/-isystem /g'))$(XML_CFLAGS)
XML_LIBS = $(eval XML_LIBS := $$(shell pkg-config --libs libxml-2.0))$(XML_LIBS)
XML_USERS := src/tools/html
# espeak-ng (speech synthesis) and libsoxr (its resampler) for src/speech/,
# alike.
SPEECH_CFLAGS = $(eval SPEECH_CFLAGS := $$(shell pkg-config --cflags espeak-ng soxr | sed 's/-I/-isystem /g'))$(SPEECH_CFLAGS)
SPEECH_LIBS = $(eval SPEECH_LIBS := $$(shell pkg-config --libs espeak-ng soxr))$(SPEECH_LIBS)
SPEECH_USERS := src/speech/espeak src/speech/resample tests/unit/test_speech
# libpq (src/store/pg*.c: the PostgreSQL store), alike.
PQ_CFLAGS = $(eval PQ_CFLAGS := $$(shell pkg-config --cflags libpq | sed 's/-I/-isystem /g'))$(PQ_CFLAGS)
PQ_LIBS = $(eval PQ_LIBS := $$(shell pkg-config --libs libpq))$(PQ_LIBS)
PQ_USERS := src/store/pg src/store/pg_rows src/store/pg_files src/store/pg_schema src/store/pg_list src/store/pg_lease src/store/pg_fsearch src/store/pg_agents src/store/pg_fs_vec tests/unit/pg_help
SYS_LIBS  = -lmicrohttpd -ljansson -lsqlite3 -lcurl -lcrypto $(PDF_LIBS) $(XML_LIBS) $(SPEECH_LIBS) $(PQ_LIBS) -lpthread -lm -lstdc++
LDLIBS    = $(LLAMA_LIBS) $(llama_rpath) $(SYS_LIBS)
# Only the tests know where the repository is (fixtures, the demo model).
TEST_DEFS := -DIA_DEMO_MODEL='"$(ROOT)/build/demo.gguf"' -DIA_SOURCE_DIR='"$(ROOT)"'

LIB_C   := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_CXX := $(wildcard src/*/*.cpp)
LIB_O   := $(LIB_C:%.c=$(OBJ)/%.o) $(LIB_CXX:%.cpp=$(OBJ)/%.o)
UNIT_C  := $(wildcard tests/unit/*.c)
UNIT_O  := $(UNIT_C:%.c=$(OBJ)/%.o)

.DELETE_ON_ERROR:
.PHONY: all deps run test unit e2e e2e-pg check service-check clean bench install install-check llama llama-key llama-server llama-server-path FORCE
all: $(BUILD)/interactd $(BUILD)/unit_tests $(BUILD)/mkdemo build/demo.gguf

# Every compile waits (order-only) for the stamp that scripts/deps.sh has run
# to its end, so `make -j` on a fresh clone has the packages and the
# llama.cpp source before llama.cpp's build and the first compile start. The stamp is redone when
# the script or the e2e lock file changes; deps.sh itself is idempotent.
DEPS_STAMP := build/.deps-stamp
deps: $(DEPS_STAMP)
deps-check: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/deps.sh tests/e2e/package-lock.json
	@mkdir -p build
	scripts/deps.sh
	@touch $@

# llama.cpp, built once per key (scripts/llama.sh; a few minutes on 2 cores,
# then never again: the stamp is in the key's folder, shared by SAN=1 and
# the fuzz targets). The key file changes only when the key does (another
# LLAMA_CPU, GPU or LLAMA_PREFIX), so everything that compiled against or
# linked another llama.cpp is redone then, and only then.
LLAMA_KEYFILE := build/.llama-key
$(LLAMA_KEYFILE): FORCE
	@mkdir -p build; [ "$$(cat $@ 2>/dev/null)" = "$(LLAMA_KEY)" ] || echo "$(LLAMA_KEY)" > $@
LLAMA_DEPS := $(LLAMA_STAMP) $(LLAMA_KEYFILE)

ifndef LLAMA_PREFIX
$(LLAMA_STAMP): scripts/llama.sh | $(DEPS_STAMP)
	scripts/llama.sh $(LLAMA_DIR) $(LLAMA_CPU) $(or $(GPU),none) '$(CUDA_ARCHS)'
	@touch $@
endif
llama: $(LLAMA_DEPS)
llama-key:
	@echo $(LLAMA_KEY)

# llama.cpp's own llama-server from the same pinned source: the real
# upstream engine of tests/e2e/upstream-llama.test.mjs and bench/upstream.
# Built in the library build's own tree (scripts/llama-server.sh in-tree),
# only its target: a few minutes on 2 cores once, under the same key as the
# libraries. An LLAMA_PREFIX build has no tree: a standalone one then.
ifdef LLAMA_PREFIX
LLAMA_SERVER := build/llama-server-build/$(LLAMA_COMMIT)/llama-server
$(LLAMA_SERVER): scripts/llama-server.sh | $(DEPS_STAMP)
	scripts/llama-server.sh standalone $(@D)
else
LLAMA_SERVER := $(LLAMA_DIR)/cmake/bin/llama-server
$(LLAMA_SERVER): scripts/llama-server.sh $(LLAMA_STAMP)
	scripts/llama-server.sh in-tree $(LLAMA_DIR)
endif
llama-server: $(LLAMA_SERVER)
llama-server-path:
	@echo $(abspath $(LLAMA_SERVER))

$(OBJ)/tests/%.o: CFLAGS += $(TEST_DEFS)
$(PDF_USERS:%=$(OBJ)/%.o): PKG_CFLAGS = $(PDF_CFLAGS)
$(XML_USERS:%=$(OBJ)/%.o): PKG_CFLAGS = $(XML_CFLAGS)
$(SPEECH_USERS:%=$(OBJ)/%.o): PKG_CFLAGS = $(SPEECH_CFLAGS)
$(PQ_USERS:%=$(OBJ)/%.o): PKG_CFLAGS = $(PQ_CFLAGS)

# The web console (web/) is embedded in the binary: scripts/embed-web.sh
# turns its files into a C fragment that src/http/console.c includes.
WEB_FILES := $(sort $(wildcard web/*.html web/*.js web/*.css))
WEB_INC := build/gen/web_assets.inc
$(WEB_INC): $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(@D)
	scripts/embed-web.sh $@ $(WEB_FILES)
$(OBJ)/src/http/console.o: $(WEB_INC)
$(OBJ)/src/http/console.o: PKG_CFLAGS = -Ibuild/gen

$(OBJ)/%.o: %.c $(LLAMA_DEPS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(OBJ)/%.o: %.cpp $(LLAMA_DEPS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/interactd: $(OBJ)/src/cli/main.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# The unit tests watch which thread writes a run to the store
# (tests/unit/test_core.c wraps these three; the wrappers pass every call on).
UNIT_WRAP := -Wl,--wrap=ia_store_finish,--wrap=ia_store_append_events,--wrap=ia_store_tokens_put
$(BUILD)/unit_tests: $(UNIT_O) $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(UNIT_WRAP) $(LDLIBS)

$(BUILD)/mkdemo: $(OBJ)/tools/mkdemo.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bare_decode: $(OBJ)/bench/bare_decode.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/grammar_cost: $(OBJ)/bench/grammar_cost.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# The speech engine's real-time factor (bench/speech/run.sh).
$(BUILD)/speech_rtf: $(OBJ)/bench/speech/speech_rtf.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)
# ... and of llama.cpp's speech generation (--speech-model).
$(BUILD)/tts_rtf: $(OBJ)/bench/speech/tts_rtf.o $(LIB_O)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# The demo model: random weights from a fixed seed, written at build time.
# The server looks for it beside its executable (build/asan/ links to it).
# Every generated model is written to $@.tmp and renamed: an interrupted
# build never leaves a truncated model that make takes as up to date.
build/demo.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@.tmp --size demo && mv -f $@.tmp $@
# The embedding model (--embedding-model): the demo's vocabulary and
# blocks, bidirectional attention, mean pooling (tools/mkdemo.c).
build/embed.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@.tmp --size embed && mv -f $@.tmp $@
all: build/embed.gguf
ifeq ($(SAN),1)
all: $(BUILD)/demo.gguf
$(BUILD)/demo.gguf: | build/demo.gguf
	ln -sfn ../demo.gguf $@
endif

# ---- multimodal test models (tools/mkdemo_mm.c) -----------------------------
# A random-weight Gemma 3 text model (embedding size 128, the real Phi-3
# tokenizer from llama.cpp's source plus Gemma's control tokens) that pairs
# with the real vision projector ../shared/models/mmproj-tinygemma3.gguf, and
# a random-weight Ultravox audio projector of the same output size, so tests
# can serve the one text model with images and with audio. Deterministic.
MM_VOCAB := $(LLSRC)/models/ggml-vocab-phi-3.gguf
$(MM_VOCAB): | $(DEPS_STAMP)
$(BUILD)/mkdemo: $(OBJ)/tools/mkdemo_mm.o $(OBJ)/tools/mkdemo_qwen.o $(OBJ)/tools/mkdemo_tts.o
all: build/gemma3.gguf build/mmproj-audio.gguf build/qwen2vl.gguf build/mmproj-qwen2vl.gguf
build/gemma3.gguf: $(BUILD)/mkdemo $(MM_VOCAB)
	$(BUILD)/mkdemo --out $@.tmp --size gemma3 --vocab $(MM_VOCAB) && mv -f $@.tmp $@
build/mmproj-audio.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@.tmp --size audio-mmproj && mv -f $@.tmp $@
# A random-weight Qwen2-VL pair (tools/mkdemo_qwen.c): media placed with
# M-RoPE positions. The projector's name is the one serve finds beside the
# model by itself.
QWEN_TEMPLATE := $(LLSRC)/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja
$(QWEN_TEMPLATE): | $(DEPS_STAMP)
build/qwen2vl.gguf: $(BUILD)/mkdemo $(MM_VOCAB) $(QWEN_TEMPLATE)
	$(BUILD)/mkdemo --out $@.tmp --size qwen2vl --vocab $(MM_VOCAB) --template $(QWEN_TEMPLATE) && mv -f $@.tmp $@
build/mmproj-qwen2vl.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@.tmp --size qwen2vl-mmproj && mv -f $@.tmp $@
# A random-weight PocketTTS pair (tools/mkdemo_tts.c) for llama.cpp's own
# speech generation (serve --speech-model); the projector beside the model.
all: build/pockettts.gguf build/mmproj-pockettts.gguf
build/pockettts.gguf: $(BUILD)/mkdemo $(MM_VOCAB)
	$(BUILD)/mkdemo --out $@.tmp --size pockettts --vocab $(MM_VOCAB) && mv -f $@.tmp $@
build/mmproj-pockettts.gguf: $(BUILD)/mkdemo
	$(BUILD)/mkdemo --out $@.tmp --size pockettts-mmproj && mv -f $@.tmp $@
.PHONY: clean-mm
clean: clean-mm
clean-mm:
	rm -f build/gemma3.gguf build/mmproj-audio.gguf build/qwen2vl.gguf build/mmproj-qwen2vl.gguf
	rm -f build/pockettts.gguf build/mmproj-pockettts.gguf build/*.gguf.tmp

# ---- install ----------------------------------------------------------------
# PREFIX/bin/interactd, linked again with RUNPATH $ORIGIN/../lib/interactd;
# llama.cpp's shared libraries (and loadable backends, mtmd) in
# PREFIX/lib/interactd, a folder of their own so that a system llama.cpp in
# PREFIX/lib is neither overwritten nor picked up; the demo model in
# PREFIX/share/interactd. Nothing refers to the build tree: the tree runs
# wherever it is moved. With LLAMA_PREFIX the binary keeps that prefix's
# lib/ as its RUNPATH and no library is copied.
PREFIX  ?= /usr/local
DESTDIR ?=
build/install/interactd: $(OBJ)/src/cli/main.o $(LIB_O)
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -o $@ $^ $(LLAMA_LIBS) $(INSTALL_RPATH) $(SYS_LIBS)

install: build/install/interactd build/demo.gguf
ifeq ($(SAN),1)
	$(error make install is for the plain build, not SAN=1)
endif
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/interactd
	install -m 755 build/install/interactd $(DESTDIR)$(PREFIX)/bin/interactd
	install -m 644 build/demo.gguf $(DESTDIR)$(PREFIX)/share/interactd/demo.gguf
ifndef LLAMA_PREFIX
	install -d $(DESTDIR)$(PREFIX)/lib/interactd
	cp -P --preserve=mode,timestamps $(LLAMA_LIB)/lib*.so* $(DESTDIR)$(PREFIX)/lib/interactd/
endif

# Installs into a scratch DESTDIR, moves the tree elsewhere, and has the moved
# binary serve the demo model and answer one request (tests/install.sh).
install-check: build/install/interactd build/demo.gguf
	@MAKE="$(MAKE)" tests/install.sh

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	./build/interactd serve $(if $(MODEL),--model $(or $(NAME),$(basename $(notdir $(MODEL))))=$(MODEL)) $(ARGS)

# Sanitizer runs: leaks are errors, except inside the llama.cpp libraries
# (tests/lsan.supp says why).
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export LSAN_OPTIONS ?= suppressions=$(ROOT)/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

# The store tests run against SQLite and against a PostgreSQL that
# tests/with-pg.sh starts for the run (tests/pg.sh: a temporary folder, its
# own port) and removes after.
unit: all
	tests/with-pg.sh $(BUILD)/unit_tests

# Two test files at a time: a file's servers run on one thread each and
# spend much of the time waiting (starts, polls, kills), so on 2 cores two
# files finish in well under twice the time of one. E2E_JOBS=1 for one.
E2E_JOBS ?= 2
e2e: all $(LLAMA_SERVER)
	cd tests/e2e && INTERACTD_BIN=$(ROOT)/$(BUILD)/interactd LLAMA_SERVER_BIN=$(abspath $(LLAMA_SERVER)) node --test --test-concurrency=$(E2E_JOBS) --test-reporter=spec *.test.mjs

# The core e2e files again with every server on PostgreSQL (E2E_STORE:
# tests/e2e/lib/server.mjs gives each data dir a database of its own).
E2E_PG_FILES := store.test.mjs state.test.mjs background.test.mjs crash.test.mjs files.test.mjs fsearch.test.mjs fsearch-tool.test.mjs custom-agents.test.mjs fsearch-hybrid.test.mjs
e2e-pg: all
	cd tests/e2e && INTERACTD_BIN=$(ROOT)/$(BUILD)/interactd $(ROOT)/tests/with-pg.sh sh -c \
	  'if [ -n "$${PG_CONNINFO:-}" ]; then E2E_STORE="$$PG_CONNINFO" node --test --test-concurrency=1 --test-reporter=spec $(E2E_PG_FILES); fi'

check: unit e2e e2e-pg fuzz-smoke service-check $(if $(filter 1,$(SAN)),,install-check)

# docs/interactd.service through systemd-analyze verify, docs/interactd.toml
# through --print-config (tests/service-check.sh).
service-check: all
	@tests/service-check.sh $(BUILD)/interactd

# The builds run on every core (a plain `make test`, as CI calls it, would
# compile one file at a time); the tests themselves keep their own pacing.
NPROC := $(shell nproc 2>/dev/null || echo 2)
BUILD_JOBS := $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))
test: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all fuzz-build build/install/interactd
	@$(MAKE) --no-print-directory check
	@echo "=== again under AddressSanitizer + UBSan ==="
	@$(MAKE) --no-print-directory $(BUILD_JOBS) SAN=1 all
	@$(MAKE) --no-print-directory SAN=1 check

bench: all $(BUILD)/bare_decode
	bench/run.sh

# llama.cpp's build (build/llama-build) stays: rm -rf it to build it again.
clean:
	rm -rf build/obj build/asan build/install build/interactd build/unit_tests build/mkdemo build/demo.gguf

-include $(shell find build/obj build/asan/obj -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz/README.md) ------------------------------------------
# libFuzzer targets over every parser that takes outside bytes, built with
# clang under ASan + UBSan in a tree of their own (build/fuzz; the sources
# again with -fsanitize=fuzzer-no-link). `make fuzz` runs each for FUZZ_TIME
# seconds from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>);
# `make fuzz-smoke` (part of check) runs each for FUZZ_SMOKE_TIME seconds,
# NPROC at a time.
FUZZ_CC         ?= clang
FUZZ_CXX        ?= clang++
FUZZ_TIME       ?= 60
FUZZ_SMOKE_TIME ?= 10
FUZZ_TARGETS := decode_legacy decode_steps schema ids codec chat_parse files pdf b64 html search mcp speech_split images hub config upchat_sse maps chatwire tts_spec fsearch agents embed_req
FUZZ_DIR := build/fuzz
FUZZ_OBJ := $(FUZZ_DIR)/obj
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_DEFS := -DIA_FUZZ_TEMPLATES='"$(ROOT)/$(LLSRC)/models/templates"'
FUZZ_CFLAGS   := $(filter-out -O2 $(SANFLAGS),$(CFLAGS)) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(FUZZ_DEFS)
FUZZ_CXXFLAGS := $(filter-out -O2 $(SANFLAGS),$(CXXFLAGS)) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LIB_O := $(LIB_C:%.c=$(FUZZ_OBJ)/%.o) $(LIB_CXX:%.cpp=$(FUZZ_OBJ)/%.o) $(FUZZ_OBJ)/tests/fuzz/fuzz_common.o
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
.PHONY: fuzz fuzz-build fuzz-smoke

$(FUZZ_OBJ)/tests/%.o: FUZZ_CFLAGS += $(TEST_DEFS)
$(PDF_USERS:%=$(FUZZ_OBJ)/%.o): PKG_CFLAGS = $(PDF_CFLAGS)
$(XML_USERS:%=$(FUZZ_OBJ)/%.o): PKG_CFLAGS = $(XML_CFLAGS)
$(SPEECH_USERS:%=$(FUZZ_OBJ)/%.o): PKG_CFLAGS = $(SPEECH_CFLAGS)
$(PQ_USERS:%=$(FUZZ_OBJ)/%.o): PKG_CFLAGS = $(PQ_CFLAGS)

$(FUZZ_OBJ)/src/http/console.o: $(WEB_INC)
$(FUZZ_OBJ)/src/http/console.o: PKG_CFLAGS = -Ibuild/gen

$(FUZZ_OBJ)/%.o: %.c $(LLAMA_DEPS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_OBJ)/%.o: %.cpp $(LLAMA_DEPS) | $(DEPS_STAMP)
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
	@printf '%s\n' $(FUZZ_TARGETS) | FUZZ_SMOKE=1 xargs -P$(NPROC) -I{} \
	  sh -c 'out=$$(tests/fuzz/run.sh {} $(FUZZ_SMOKE_TIME) 2>&1); rc=$$?; printf "%s\n" "$$out"; exit $$rc'
endif

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
