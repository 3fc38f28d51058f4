# sheaf build.  `make run` and `make test` are the two commands a newcomer
# needs; both install what is missing first (scripts/bootstrap).
#
#   make                      optimized build: build/release/sheaf
#   make SANITIZE=address,undefined   sanitizer build: build/san/sheaf
#   make run                  bootstrap, build, start `sheaf serve`
#   make test                 bootstrap, sanitizer build, unit + API tests
#   make unit / make api      one tier only (after a build)
#   make bench                side-by-side HTTP benchmark (bench/http/run)
#   make bench-query          analysis tools vs pandas and sqlite3 (bench/query/run)
#   make fuzz                 libFuzzer binaries in build/fuzz (needs clang)

SANITIZE ?=
CC ?= cc
PKGS := libmicrohttpd jansson sqlite3 libsodium
PKGS += libmagic libcrypto uchardet libzip freexl
PKGS += libcurl expat xgboost

ifeq ($(SANITIZE),)
  BUILD := build/release
  OPT := -O2 -g
  SANFLAGS :=
else
  BUILD := build/san
  OPT := -O1 -g -fno-omit-frame-pointer
  SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

GIT_ID := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
	-Isrc -I. -I$(BUILD)/gen $(OPT) $(SANFLAGS) -MMD -MP \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread $(LDLIBS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)
# Loaded on first use by the sheaf binary (src/base/dynlib.h), by SONAME;
# the tests and benches link them as usual.
LAZY_PKGS := libcurl xgboost libmicrohttpd libcrypto libzip uchardet
soname = $(shell objdump -p $$($(CC) -print-file-name=lib$(1).so) 2>/dev/null | awk '/SONAME/ {print $$2}')
CURL_SONAME := $(call soname,curl)
XGBOOST_SONAME := $(call soname,xgboost)
MHD_SONAME := $(call soname,microhttpd)
CRYPTO_SONAME := $(call soname,crypto)
ZIP_SONAME := $(call soname,zip)
UCHARDET_SONAME := $(call soname,uchardet)
CFLAGS_ALL += $(if $(CURL_SONAME),-DSHEAF_CURL_SONAME='"$(CURL_SONAME)"')
CFLAGS_ALL += $(if $(XGBOOST_SONAME),-DSHEAF_XGBOOST_SONAME='"$(XGBOOST_SONAME)"')
CFLAGS_ALL += $(if $(MHD_SONAME),-DSHEAF_MHD_SONAME='"$(MHD_SONAME)"')
CFLAGS_ALL += $(if $(CRYPTO_SONAME),-DSHEAF_CRYPTO_SONAME='"$(CRYPTO_SONAME)"')
CFLAGS_ALL += $(if $(ZIP_SONAME),-DSHEAF_ZIP_SONAME='"$(ZIP_SONAME)"')
CFLAGS_ALL += $(if $(UCHARDET_SONAME),-DSHEAF_UCHARDET_SONAME='"$(UCHARDET_SONAME)"')
LDLIBS_SHEAF := $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) -lpthread $(LDLIBS)

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/web/assets.o $(BUILD)/models/eclo/model.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/replay_%)

.PHONY: all release san run test unit api bench clean bootstrap
all: $(BUILD)/sheaf

release:
	@$(MAKE) --no-print-directory SANITIZE=

san:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all units

bootstrap:
	scripts/bootstrap

# The git id lives in a generated header that is rewritten only when the id
# changes, so the version a binary reports is never stale and an unchanged
# tree does not rebuild.
$(BUILD)/gen/git-id.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define SHEAF_GIT "$(GIT_ID)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/src/main.o: $(BUILD)/gen/git-id.h
.PHONY: FORCE
FORCE:

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/sheaf: $(BUILD)/src/main.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_SHEAF)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/web/assets.o: web/assets.S web/docs.html
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) -c -I. -o $@ web/assets.S

$(BUILD)/models/eclo/model.o: models/eclo/model.S models/eclo/eclo.model
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) -c -I. -o $@ models/eclo/model.S

# The ECLO preset's model, from the TAAS records (see models/eclo/RECORD.md).
TAAS_ZIP ?= ../shared/data/daegu/taas/data.zip
.PHONY: eclo-model
eclo-model: bootstrap
	@$(MAKE) --no-print-directory SANITIZE= all
	models/eclo/train.sh build/release/sheaf $(TAAS_ZIP)
	@$(MAKE) --no-print-directory SANITIZE= all

.PHONY: units fuzz
units: $(UNIT_BIN) $(REPLAY_BIN)

# Corpus replay: the fuzz target with a plain main, run by scripts/test.
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(LIB_OBJ) $(LDFLAGS_ALL) $(LDLIBS_ALL)

# Real fuzzers (clang + libFuzzer): make fuzz, then e.g.
#   build/fuzz/fuzz_http -max_total_time=60 tests/fuzz/corpus/http
FUZZ_CC := clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Isrc -I. -I$(BUILD)/gen -g -O1 -fsanitize=fuzzer,address,undefined \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC) $(BUILD)/gen/git-id.h web/assets.S web/docs.html \
		models/eclo/model.S models/eclo/eclo.model
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_SRC) web/assets.S models/eclo/model.S \
		$(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDFLAGS_ALL) $(LDLIBS_ALL) -lcmocka

run: bootstrap
	@$(MAKE) --no-print-directory release
	build/release/sheaf serve

test: bootstrap
	@$(MAKE) --no-print-directory san
	scripts/test

unit:
	scripts/test unit

api:
	scripts/test api

bench:
	scripts/bootstrap --bench
	@$(MAKE) --no-print-directory release
	bench/http/run

# Ingest benchmark: sheaf import vs sqlite3 .import, pandas and cat
# (bench/ingest/run; its README says what it measures).
.PHONY: bench-ingest
bench-ingest:
	scripts/bootstrap --bench
	@$(MAKE) --no-print-directory release
	bench/ingest/run

# Query benchmark: analysis tools vs pandas and sqlite3 on TAAS and 10M
# generated rows (bench/query/run; its README says what it measures).
.PHONY: bench-query
bench-query:
	scripts/bootstrap --bench
	@$(MAKE) --no-print-directory release
	bench/query/run

# Prediction benchmark: /api/predict/eclo vs seed 003's FastAPI + XGBoost
# stack on the same trees, and sheaf train vs pandas + xgboost.train
# (bench/predict/run; its README says what it measures).
.PHONY: bench-predict
bench-predict:
	scripts/bootstrap --bench
	@$(MAKE) --no-print-directory release
	bench/predict/run

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
