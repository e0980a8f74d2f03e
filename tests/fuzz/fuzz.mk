# tests/fuzz/fuzz.mk — libFuzzer targets (docs/fuzzing.md), included by the
# Makefile. `make fuzz` builds every tests/fuzz/fuzz_NAME.c with clang-14
# (-fsanitize=fuzzer,address,undefined) against the project's sources,
# compiled again by clang with the same sanitizers and libFuzzer's
# coverage (-fsanitize=fuzzer-no-link), and runs each for
# FUZZ_TIME seconds over a scratch copy of its seed corpus
# (tests/fuzz/corpus/NAME/, never modified). `fuzz-replay` (part of
# unit-check) builds the same targets with $(CC) and no libFuzzer
# (tests/fuzz/replay_main.c) and runs every seed and every regression input
# (tests/fuzz/regressions/NAME/) once.

FUZZ_CC     ?= clang-14
FUZZ_TIME   ?= 30
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_BINS   := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
REPLAY_BINS := $(patsubst %,$(BUILD)/tests/fuzz/fuzz_%,$(FUZZ_NAMES))
# The plugin's pure modules the targets drive (no Slurm in them).
FUZZ_PLUGIN_SRC := plugin/site.c plugin/task_env.c plugin/modules.c
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  = $(filter-out -Werror,$(WARN)) -g -O1 $(FUZZ_SAN) $(INCLUDES) -Iplugin -Itests/fuzz \
	$(shell pkg-config --cflags $(PKGS))
FUZZ_LIB    := $(FUZZ_DIR)/libevofarm-fuzz.a
FUZZ_FLAGS  ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-replay

$(BUILD)/fuzz-obj/%.o: %.c | $(VERSION_H) $(PATHS_H)
	@mkdir -p $(@D)
	@echo "  CC/FUZZ $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
-include $(shell find $(BUILD)/fuzz-obj -name '*.d' 2>/dev/null)

$(FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(INTERNAL_SRC) $(FUZZ_PLUGIN_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target over a scratch copy of its corpus: a crash, a leak or an
# input slower than -timeout fails the run (libFuzzer exits non-zero and
# leaves crash-*/leak-*/timeout-* in $(FUZZ_DIR)/NAME/).
fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_NAMES); do \
	  echo "== fuzz_$$t ($(FUZZ_TIME) s)"; \
	  rm -rf $(FUZZ_DIR)/$$t && mkdir -p $(FUZZ_DIR)/$$t/corpus; \
	  cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/$$t/corpus/; \
	  ( cd $(FUZZ_DIR)/$$t && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ../fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_TIME) corpus \
	      > log 2>&1 ) || { tail -n 60 $(FUZZ_DIR)/$$t/log; echo "fuzz_$$t: FAILED (see $(FUZZ_DIR)/$$t)"; exit 1; }; \
	  grep -E '^(stat::number_of_executed_units|Done)' $(FUZZ_DIR)/$$t/log || true; \
	done; echo "make fuzz: $(words $(FUZZ_NAMES)) targets, $(FUZZ_TIME) s each, no finding"

# The same targets without libFuzzer, in the unit suite.
$(BUILD)/tests/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay_main.o \
	  $(call obj_of,$(FUZZ_PLUGIN_SRC)) $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)
$(BUILD)/obj/tests/fuzz/%.o: ALL_CFLAGS += -Iplugin -Itests/fuzz

fuzz-replay: $(REPLAY_BINS)
	@set -e; for t in $(FUZZ_NAMES); do echo "== fuzz_$$t (replay)"; \
	  $(BUILD)/tests/fuzz/fuzz_$$t tests/fuzz/corpus/$$t/* $$(ls -d tests/fuzz/regressions/$$t/* 2>/dev/null); done
