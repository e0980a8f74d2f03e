# evo-farm — build, test and install. Entry points: make, make check,
# make install PREFIX=..., make bench, make demo, make format.

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
PKGS    := libzmq yaml-0.1 pmix lapacke libsodium
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC -fno-strict-overflow
WARN    := -D_GNU_SOURCE -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ALL_CFLAGS  = $(WARN) $(HARDEN) $(CFLAGS) -Iinclude -Ifarm $(shell pkg-config --cflags $(PKGS))
ALL_LDFLAGS = -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS        = $(shell pkg-config --libs $(PKGS)) -ldl -lm -lpthread

LIB_SRC := $(filter-out farm/main.c,$(wildcard farm/*.c))
LIB_OBJ := $(LIB_SRC:farm/%.c=$(BUILD)/obj/%.o)
BIN     := $(BUILD)/bin/evo-farm
SOLIB   := $(BUILD)/lib/libevofarm.so
EXAMPLE_LIBS := $(BUILD)/examples/librastrigin.so $(BUILD)/examples/libtestfns.so
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
ASAN_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(wildcard tests/unit/test_*.c))
TOOLS   := $(BUILD)/tests/mapdriver $(BUILD)/bench/farmbench
PLUGIN  := $(BUILD)/plugin/spank_evo_farm.so
PLUGIN_SRC := $(wildcard plugin/*.c)
PLUGIN_OBJ := $(PLUGIN_SRC:plugin/%.c=$(BUILD)/plugin-obj/%.o)
CONFIG_OBJ := $(patsubst farm/%.c,$(BUILD)/obj/%.o,$(wildcard farm/config*.c))

.PHONY: deb rpm package-check all check unit-check asan-check integration-check python-check slurm-check install uninstall clean bench bench-slurm demo format
all: $(BIN) $(SOLIB) $(EXAMPLE_LIBS) $(TOOLS) $(PLUGIN)

# The SPANK plugin: its own objects plus the config loader, exporting only
# the slurm_spank_* entry points (plugin/spank_evo_farm.map).
$(BUILD)/plugin-obj/%.o: plugin/%.c $(wildcard plugin/*.h farm/config.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Iplugin -c -o $@ $<

$(PLUGIN): $(PLUGIN_OBJ) $(CONFIG_OBJ) plugin/spank_evo_farm.map
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -o $@ $(PLUGIN_OBJ) $(CONFIG_OBJ) -Wl,--version-script=plugin/spank_evo_farm.map \
	  $(ALL_LDFLAGS) $(shell pkg-config --libs libzmq yaml-0.1 libsodium)

$(BUILD)/obj/%.o: farm/%.c $(wildcard farm/*.h include/evofarm/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): farm/main.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -pie -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(SOLIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libevofarm.so.1 -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/examples/librastrigin.so: examples/rastrigin/rastrigin.c include/evofarm/evaluator.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS) -lm

$(BUILD)/examples/libtestfns.so: tests/integration/testfns.c include/evofarm/evaluator.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS) -lm

$(BUILD)/tests/mapdriver: tests/integration/mapdriver.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/farmbench: bench/farmbench.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

# The plugin's pure modules are unit-tested with the runtime's.
PLUGIN_PURE := plugin/site.c plugin/task_env.c
$(BUILD)/tests/test_plugin: $(PLUGIN_PURE:plugin/%.c=$(BUILD)/plugin-obj/%.o)
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iplugin -o $@ $^ $(ALL_LDFLAGS) $(LIBS) -lcmocka

# The unit suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(BUILD)/asan/test_plugin: $(PLUGIN_PURE)
$(BUILD)/asan/%: tests/unit/%.c $(LIB_SRC)
	@mkdir -p $(@D)
	$(Q)$(CC) $(WARN) -O1 -g $(SAN) -Iinclude -Ifarm -Iplugin $(shell pkg-config --cflags $(PKGS)) -o $@ $^ $(LIBS) -lcmocka

unit-check: $(TEST_BINS) $(BIN) $(EXAMPLE_LIBS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; EVO_FARM_BIN=$(BIN) $$t; done

asan-check: $(ASAN_BINS) $(BIN) $(EXAMPLE_LIBS)
	@set -e; for t in $(ASAN_BINS); do echo "== $$t (ASan+UBSan)"; \
	  EVO_FARM_BIN=$(BIN) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

integration-check: all
	@BUILD=$(BUILD) tests/integration/run-all.sh

# The Python package against real farms (pytest, DEAP from Debian).
python-check: all
	@BUILD=$(BUILD) /usr/bin/python3 -m pytest -q tests/python

# Real Slurm (munge, slurmctld, two slurmd) started and stopped by the suite.
slurm-check: all
	@BUILD=$(BUILD) tests/slurm/run-all.sh

# The Debian packages built, installed, run under the test Slurm and purged;
# the RPM spec built with rpmbuild.
package-check: all
	@tests/packaging/deb-check.sh
	@tests/packaging/rpm-check.sh

check: unit-check asan-check integration-check python-check slurm-check package-check
	@echo "make check: all suites passed"

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
	sed -e 's|@PREFIX@|$(PREFIX)|g' packaging/evofarm.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/evofarm.pc
	install -d $(DESTDIR)$(PREFIX)/lib/evo-farm/python/evofarm $(DESTDIR)$(PYDIR)
	install -m 644 python/evofarm/*.py $(DESTDIR)$(PREFIX)/lib/evo-farm/python/evofarm/
	echo "$(PREFIX)/lib/evo-farm/python" > $(DESTDIR)$(PYDIR)/evofarm.pth
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 man/evo-farm.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/evo-farm.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/spank_evo_farm.8 $(DESTDIR)$(PREFIX)/share/man/man8/

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
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/evo-farm-0.1.0
	git ls-files -z | xargs -0 cp --parents -t $(BUILD)/deb/evo-farm-0.1.0
	cp -r packaging/debian $(BUILD)/deb/evo-farm-0.1.0/debian
	cd $(BUILD)/deb/evo-farm-0.1.0 && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# RPM packages from packaging/rpm/evo-farm.spec where rpmbuild exists (on
# Debian the RPM build dependencies cannot be checked: --nodeps).
rpm:
	rm -rf $(BUILD)/rpm && mkdir -p $(BUILD)/rpm/SOURCES
	git ls-files -z | xargs -0 tar --transform 's|^|evo-farm-0.1.0/|' -czf $(BUILD)/rpm/SOURCES/evo-farm-0.1.0.tar.gz
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/$(BUILD)/rpm" packaging/rpm/evo-farm.spec
	@find $(BUILD)/rpm/RPMS -name '*.rpm'

format:
	clang-format -i farm/*.c farm/*.h include/evofarm/*.h tests/unit/*.c tests/integration/*.c bench/*.c examples/*/*.c

clean:
	rm -rf $(BUILD)
