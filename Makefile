# evo-farm — build, test and install. Entry points: make, make check,
# make check-quick, make lint, make install PREFIX=..., make bench, make demo, make format.

PREFIX  ?= /usr/local
PLUGINDIR ?= $(PREFIX)/lib/slurm
# where the system's python3 looks for packages under PREFIX (a .pth there
# points to PREFIX/lib/evo-farm/python, which evo-farm also gives venvs)
PYDIR   ?= $(PREFIX)/lib/$(shell /usr/bin/python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null || echo python3)/dist-packages
DESTDIR ?=
BUILD   ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

CC      ?= gcc
VERSION := $(shell cat VERSION)
PKGS    := libzmq yaml-0.1 pmix lapacke libsodium
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC -fno-strict-overflow
WARN    := -D_GNU_SOURCE -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
GEN     := $(BUILD)/gen
INCLUDES = -Iinclude -Ifarm -I$(GEN)
ALL_CFLAGS  = $(WARN) $(HARDEN) $(CFLAGS) $(INCLUDES) $(shell pkg-config --cflags $(PKGS))
ALL_LDFLAGS = -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS        = $(shell pkg-config --libs $(PKGS)) -lpmi2 -ldl -lm -lpthread
# evo-farm and libevofarm find the libraries they were built with first,
# whatever a module puts in LD_LIBRARY_PATH (an OpenHPC pmix module, conda's
# libzmq): DT_RPATH is searched before LD_LIBRARY_PATH, DT_RUNPATH after it
# (ld.so(8)); the user's own programs see LD_LIBRARY_PATH as the module set it.
comma    := ,
LIBDIRS  := $(sort $(foreach p,$(PKGS),$(shell pkg-config --variable=libdir $(p))))
PIN_LIBS  = $(addprefix -Wl$(comma)-rpath$(comma),$(LIBDIRS)) -Wl,--disable-new-dtags

# The layers (docs/ARCHITECTURE.md): farm/<layer>/*.c, the command apart.
layer_src = $(foreach l,$(1),$(wildcard farm/$(l)/*.c))
obj_of    = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# libevofarm.so: what a driver needs to talk to a farm, and nothing else.
PUBLIC_SRC   := $(call layer_src,util wire client)
# The SPANK plugin's share of the runtime: the YAML loader (no ZeroMQ,
# libsodium or PMIx may reach slurmstepd).
CONFIG_SRC   := $(call layer_src,config registry) farm/util/parse.c farm/util/clock.c farm/util/files.c \
		farm/util/log.c farm/util/host.c farm/util/networks.c farm/util/fds.c
# Everything the command, the tests and the benches link.
INTERNAL_SRC := $(call layer_src,util config registry wire bootstrap broker worker client drivers cmaes)
CMD_SRC      := $(wildcard cmd/evo-farm/*.c)
PUBLIC_OBJ   := $(call obj_of,$(PUBLIC_SRC))
CONFIG_OBJ   := $(call obj_of,$(CONFIG_SRC))
INTERNAL_OBJ := $(call obj_of,$(INTERNAL_SRC))
CMD_OBJ      := $(call obj_of,$(CMD_SRC))

BIN     := $(BUILD)/bin/evo-farm
SOLIB   := $(BUILD)/lib/libevofarm.so
INTERNAL_LIB := $(BUILD)/lib/libevofarm-internal.a
CONFIG_LIB   := $(BUILD)/lib/libevofarm-config.a
VERSION_H    := $(GEN)/evo_version.h
EXAMPLE_LIBS := $(BUILD)/examples/librastrigin.so $(BUILD)/examples/libtestfns.so
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRC))
TOOLS   := $(BUILD)/tests/mapdriver $(BUILD)/tests/result_layout $(BUILD)/bench/farmbench $(BUILD)/bench/floors \
	   $(BUILD)/bench/scale
PLUGIN  := $(BUILD)/plugin/spank_evo_farm.so
PLUGIN_SRC := $(wildcard plugin/*.c)
PLUGIN_OBJ := $(call obj_of,$(PLUGIN_SRC))

.PHONY: deb rpm package-check all check check-quick lint check-slurm-versions unit-check asan-check integration-check python-check slurm-check \
	install uninstall clean bench bench-slurm demo format
all: $(BIN) $(SOLIB) $(EXAMPLE_LIBS) $(TOOLS) $(PLUGIN)
# Keep the objects of test and tool binaries between runs.
.SECONDARY:

# One version, from the VERSION file.
$(VERSION_H): VERSION
	@mkdir -p $(@D)
	$(Q)printf '#define EVO_VERSION "%s"\n' "$(VERSION)" > $@

# Where the command is installed, for the plugin (rewritten only when PREFIX
# changes, so that a new PREFIX rebuilds what includes it).
PATHS_H := $(GEN)/evo_paths.h
$(PATHS_H): FORCE
	@mkdir -p $(@D)
	$(Q)printf '#define EVO_FARM_COMMAND "%s"\n' "$(PREFIX)/bin/evo-farm" > $@.tmp; \
	  cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
.PHONY: FORCE

# Every object, with its header dependencies tracked (-MMD -MP).
$(BUILD)/obj/%.o: %.c | $(VERSION_H) $(PATHS_H)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/obj/plugin/%.o: ALL_CFLAGS += -Iplugin
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

$(INTERNAL_LIB): $(INTERNAL_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
$(CONFIG_LIB): $(CONFIG_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# The SPANK plugin: its own objects plus the config library, exporting only
# the slurm_spank_* entry points (plugin/spank_evo_farm.map).
$(PLUGIN): $(PLUGIN_OBJ) $(CONFIG_LIB) plugin/spank_evo_farm.map
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -o $@ $(PLUGIN_OBJ) $(CONFIG_LIB) -Wl,--version-script=plugin/spank_evo_farm.map \
	  $(ALL_LDFLAGS) $(shell pkg-config --libs yaml-0.1) -lm

# libevofarm.so: the client, wire and util layers; exports only the
# documented client API (farm/client/libevofarm.map).
$(SOLIB): $(PUBLIC_OBJ) farm/client/libevofarm.map
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libevofarm.so.1 -Wl,--version-script=farm/client/libevofarm.map -o $@ \
	  $(PUBLIC_OBJ) $(ALL_LDFLAGS) $(shell pkg-config --libs libzmq) -lm $(PIN_LIBS)

$(BIN): $(CMD_OBJ) $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pie -o $@ $^ $(ALL_LDFLAGS) $(LIBS) $(PIN_LIBS)

$(BUILD)/examples/librastrigin.so: examples/rastrigin/rastrigin.c include/evofarm/evaluator.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS) -lm

$(BUILD)/examples/libtestfns.so: tests/integration/testfns.c include/evofarm/evaluator.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS) -lm

$(BUILD)/tests/mapdriver: $(BUILD)/obj/tests/integration/mapdriver.o $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

# Prints struct evo_result's C layout for the ctypes mirror's test.
$(BUILD)/tests/result_layout: $(BUILD)/obj/tests/python/result_layout.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)

$(BUILD)/bench/farmbench: $(BUILD)/obj/bench/farmbench.o $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/floors: $(BUILD)/obj/bench/floors.o $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/scale: $(BUILD)/obj/bench/scale.o $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

# One cmocka file per module (tests/unit/test_<module>.c); TEST=NAME runs
# only the cases whose name matches (cmocka_set_test_filter, tests/unit/unit.h).
# The plugin's pure modules are unit-tested with the runtime's.
PLUGIN_PURE := plugin/site.c plugin/task_env.c
$(BUILD)/tests/test_plugin: $(call obj_of,$(PLUGIN_PURE))
$(BUILD)/tests/test_mpi: $(call obj_of,plugin/mpi.c)
$(BUILD)/tests/test_modules: $(call obj_of,plugin/modules.c plugin/task_env.c farm/util/fds.c)
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(INTERNAL_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS) -lcmocka
$(BUILD)/obj/tests/unit/%.o: ALL_CFLAGS += -Iplugin

# The unit suite again under AddressSanitizer + UndefinedBehaviorSanitizer:
# the same sources compiled once more into an instrumented internal library.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CFLAGS = $(WARN) -O1 -g $(SAN) $(INCLUDES) -Iplugin $(shell pkg-config --cflags $(PKGS))
ASAN_LIB := $(BUILD)/asan/libevofarm-internal.a
$(BUILD)/asan-obj/%.o: %.c | $(VERSION_H) $(PATHS_H)
	@mkdir -p $(@D)
	@echo "  CC/SAN  $<"
	$(Q)$(CC) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<
-include $(shell find $(BUILD)/asan-obj -name '*.d' 2>/dev/null)
$(ASAN_LIB): $(patsubst %.c,$(BUILD)/asan-obj/%.o,$(INTERNAL_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/asan/test_plugin: $(patsubst %.c,$(BUILD)/asan-obj/%.o,$(PLUGIN_PURE))
$(BUILD)/asan/test_mpi: $(BUILD)/asan-obj/plugin/mpi.o
$(BUILD)/asan/test_modules: $(BUILD)/asan-obj/plugin/modules.o $(BUILD)/asan-obj/plugin/task_env.o $(BUILD)/asan-obj/farm/util/fds.o
$(BUILD)/asan/%: $(BUILD)/asan-obj/tests/unit/%.o $(ASAN_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS) -lcmocka

# libFuzzer targets (make fuzz) and their replay in the unit suite.
include tests/fuzz/fuzz.mk
unit-check: $(TEST_BINS) $(BIN) $(EXAMPLE_LIBS) fuzz-replay
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; EVO_FARM_BIN=$(BIN) TEST="$(TEST)" $$t; done

asan-check: $(ASAN_BINS) $(BIN) $(EXAMPLE_LIBS)
	@set -e; for t in $(ASAN_BINS); do echo "== $$t (ASan+UBSan)"; \
	  EVO_FARM_BIN=$(BIN) TEST="$(TEST)" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

integration-check: all
	@BUILD=$(BUILD) tests/integration/run-all.sh

# The Python package against real farms (pytest, DEAP from Debian).
python-check: all
	@BUILD=$(BUILD) /usr/bin/python3 -m pytest -q --timeout=300 tests/python

# Real Slurm (munge, slurmctld, two slurmd) started and stopped by the suite.
slurm-check: all
	@BUILD=$(BUILD) tests/slurm/run-all.sh

# Another user of the machine against a farm (needs root: it makes both
# users); loopback only.
adversary-check: all
	@BUILD=$(BUILD) tests/adversary/run-all.sh

# The Debian packages built, installed, run under the test Slurm and purged;
# the RPM spec built with rpmbuild.
package-check: all
	@tests/packaging/deb-check.sh
	@tests/packaging/rpm-check.sh

# The C layout, the shell and the Python, checked (scripts/lint).
lint:
	@scripts/lint

# As root (CI), everything; as another user, everything that needs no
# root: the Slurm suite (it starts munge, slurmctld and slurmd) and the
# package checks (dpkg -i, rpmbuild's install) are skipped, and said so.
ROOT_SUITES := $(if $(filter 0,$(shell id -u)),adversary-check slurm-check package-check,)
check: lint unit-check asan-check integration-check python-check $(ROOT_SUITES)
	@[ -n "$(ROOT_SUITES)" ] || echo "make check: skipped adversary-check, slurm-check and package-check: they need root (two users made; a Slurm cluster of munge, slurmctld and two slurmd; packages installed and purged); run make check as root for them"
	@echo "make check: all suites passed$(if $(ROOT_SUITES),, (but the two above))"

# The Slurm suite (and the unit suite, and a plugin package pinned to that
# Slurm) against the other Slurm releases Debian ships, each built inside
# a Debian root that tests/slurm/versions/root.sh makes with debootstrap
# from Debian's archive and caches ($$EVO_FARM_ROOTS, default
# /var/cache/evo-farm/roots): trixie (24.11, PMIx 5), sid (26.05, no PMIx
# plugin: PMI-2). Needs root and debootstrap.
SLURM_SUITES ?= trixie sid
check-slurm-versions:
	@set -e; for suite in $(SLURM_SUITES); do \
	  echo "== Slurm of Debian $$suite"; \
	  tests/slurm/versions/root.sh make $$suite; \
	  tests/slurm/versions/root.sh versions $$suite; \
	  tests/slurm/versions/root.sh run $$suite make BUILD=build-$$suite all unit-check slurm-check; \
	  tests/slurm/versions/root.sh run $$suite env BUILD=build-$$suite tests/packaging/deb-pin-check.sh; \
	done; echo "make check-slurm-versions: $(SLURM_SUITES) passed"

# What needs neither root nor packages installed by the suite: no Slurm
# cluster, no dpkg.
check-quick: lint unit-check asan-check integration-check python-check
	@echo "make check-quick: all suites passed"

bench: all
	bench/run.sh

bench-slurm: all
	bench/slurm-startup.sh

demo: all
	cd examples/rastrigin && ../../$(BIN) run evolution.yaml
	@echo "results: examples/rastrigin/results/ (result.json, logbook.csv, convergence.svg)"

install: $(BIN) $(SOLIB) $(PLUGIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/evofarm \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PLUGINDIR)
	install -m 755 $(PLUGIN) $(DESTDIR)$(PLUGINDIR)/spank_evo_farm.so
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/evo-farm
	install -m 644 $(SOLIB) $(DESTDIR)$(PREFIX)/lib/libevofarm.so.1
	ln -sf libevofarm.so.1 $(DESTDIR)$(PREFIX)/lib/libevofarm.so
	install -m 644 include/evofarm/*.h $(DESTDIR)$(PREFIX)/include/evofarm/
	sed -e 's|@PREFIX@|$(PREFIX)|g; s|@VERSION@|$(VERSION)|g' packaging/evofarm.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/evofarm.pc
	install -d $(DESTDIR)$(PREFIX)/lib/evo-farm/python/evofarm $(DESTDIR)$(PYDIR)
	install -m 644 python/evofarm/*.py python/evofarm/py.typed $(DESTDIR)$(PREFIX)/lib/evo-farm/python/evofarm/
	printf '__version__ = "%s"\n' "$(VERSION)" > $(DESTDIR)$(PREFIX)/lib/evo-farm/python/evofarm/_version.py
	install -d $(DESTDIR)$(PREFIX)/lib/evo-farm/python/build_backend
	install -m 644 python/pyproject.toml $(DESTDIR)$(PREFIX)/lib/evo-farm/python/
	install -m 644 python/build_backend/evofarm_build.py $(DESTDIR)$(PREFIX)/lib/evo-farm/python/build_backend/
	echo "$(PREFIX)/lib/evo-farm/python" > $(DESTDIR)$(PYDIR)/evofarm.pth
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	for page in man/evo-farm.1 man/evo-farm.yaml.5 man/spank_evo_farm.8; do \
	  sed -e 's|@VERSION@|$(VERSION)|g' $$page > $(DESTDIR)$(PREFIX)/share/man/man$${page##*.}/$${page#man/}; \
	  chmod 644 $(DESTDIR)$(PREFIX)/share/man/man$${page##*.}/$${page#man/}; done

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/spank_evo_farm.so
	rm -f $(DESTDIR)$(PREFIX)/bin/evo-farm $(DESTDIR)$(PREFIX)/lib/libevofarm.so* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/evofarm.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/evofarm $(DESTDIR)$(PREFIX)/lib/evo-farm
	rm -f $(DESTDIR)$(PYDIR)/evofarm.pth $(DESTDIR)$(PREFIX)/share/man/man1/evo-farm.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5/evo-farm.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man8/spank_evo_farm.8

# Debian packages (evo-farm, slurm-spank-evo-farm) from packaging/debian,
# built in a copy of the tracked sources under $(BUILD)/deb.
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/evo-farm-$(VERSION)
	git ls-files -z | xargs -0 cp --parents -t $(BUILD)/deb/evo-farm-$(VERSION)
	cp -r packaging/debian $(BUILD)/deb/evo-farm-$(VERSION)/debian
	cd $(BUILD)/deb/evo-farm-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# RPM packages from packaging/rpm/evo-farm.spec where rpmbuild exists (on
# Debian the RPM build dependencies cannot be checked: --nodeps).
# SLURM_VERSION=X.Y.Z pins the plugin package to that Slurm.
rpm:
	rm -rf $(BUILD)/rpm && mkdir -p $(BUILD)/rpm/SOURCES
	git ls-files -z | xargs -0 tar --transform 's|^|evo-farm-$(VERSION)/|' -czf $(BUILD)/rpm/SOURCES/evo-farm-$(VERSION).tar.gz
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/$(BUILD)/rpm" --define "evo_version $(VERSION)" \
	  $(if $(SLURM_VERSION),--define "slurm_version $(SLURM_VERSION)") packaging/rpm/evo-farm.spec
	@find $(BUILD)/rpm/RPMS -name '*.rpm'

format:
	clang-format -i farm/*/*.[ch] cmd/*/*.[ch] plugin/*.[ch] include/evofarm/*.h tests/unit/*.[ch] tests/integration/*.c \
	  tests/python/*.c bench/*.c examples/*/*.c

clean:
	rm -rf $(BUILD)
