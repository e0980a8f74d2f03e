# test_artefacts.sh — what each artefact shows the world (docs/ARCHITECTURE.md,
# "Artefacts"): the symbols it exports, the libraries it needs, the layers
# each folder may include, and the one version every place says.

# needed FILE — the NEEDED entries of an ELF file, one a line, sorted
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort; }

t_plugin_exports_only_spank_symbols() {
    local so="$ROOT/$BUILD/plugin/spank_evo_farm.so" symbols extra
    symbols=$(nm -D --defined-only "$so" | awk '{print $3}')
    echo "$symbols" | grep -q '^slurm_spank_init$' || fail "slurm_spank_init not exported"
    echo "$symbols" | grep -q '^slurm_spank_task_init$' || fail "slurm_spank_task_init not exported"
    extra=$(echo "$symbols" | grep -vE '^(slurm_spank_[a-z_]+|(spank_)?plugin_(name|type|version))$' || true)
    [ -z "$extra" ] || fail "the plugin exports more than its SPANK symbols: $extra"
}

# slurmstepd maps the plugin: it must bring neither ZeroMQ nor libsodium nor
# PMIx (nor leave a reference to them for the loader to trip on).
t_plugin_needs_only_libyaml() {
    local so="$ROOT/$BUILD/plugin/spank_evo_farm.so" libs undefined
    libs=$(needed "$so" | tr '\n' ' ')
    [ "$libs" = "libc.so.6 libm.so.6 libyaml-0.so.2 " ] || fail "the plugin needs: $libs"
    undefined=$(nm -D --undefined-only "$so" | awk '{print $2}' | grep -E '^(zmq_|sodium_|crypto_|PMIx_|LAPACKE_)' || true)
    [ -z "$undefined" ] || fail "the plugin refers to: $undefined"
}

# libevofarm.so: exactly the documented client API, and only libzmq besides
# the C library.
t_library_exports_only_the_client_api() {
    local so="$ROOT/$BUILD/lib/libevofarm.so" symbols documented name python libs
    symbols=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
    documented=$(grep -oE '\bevo_client_[a-z_]+\(' "$ROOT/include/evofarm/client.h" | tr -d '(' | sort -u)
    [ "$symbols" = "$documented" ] ||
        fail "libevofarm.so exports [$(echo $symbols)] but client.h declares [$(echo $documented)]"
    python=$(grep -ohE 'lib\.evo_[a-z_]+' "$ROOT"/python/evofarm/*.py | sed 's/^lib\.//' | sort -u)
    for name in $python; do
        echo "$symbols" | grep -qx "$name" || fail "the Python package calls $name, which libevofarm.so does not export"
    done
    libs=$(needed "$so" | tr '\n' ' ')
    [ "$libs" = "libc.so.6 libm.so.6 libzmq.so.5 " ] || fail "libevofarm.so needs: $libs"
}

# readme_list README FIELD — the comma-separated list of the README's
# "FIELD: a, b." line, one per line ("nothing": none).
readme_list() {
    sed -n "s/^$2: \(.*\)\.\$/\1/p" "$1" | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -vx 'nothing' | sort
}

# Which layer may include which, and which outside headers each may use:
# one source, the "May include:" and "Outside:" lines of each folder's
# README; docs/ARCHITECTURE.md's layer table must say the same.
t_layers_include_only_what_they_may() {
    local dir layer readme may outside inc bad="" row table
    for dir in "$ROOT"/farm/*/ "$ROOT"/plugin/; do
        layer=$(basename "$dir")
        readme="$dir/README"
        grep -q '^May include: ' "$readme" 2> /dev/null || { bad="$bad $layer(no README 'May include:' line)"; continue; }
        may=" $(readme_list "$readme" 'May include' | tr '\n' ' ') evofarm "
        outside=" $(readme_list "$readme" Outside | tr '\n' ' ') "
        for inc in $(grep -ohE '^#include "[a-z_]+/' "$dir"*.[ch] | sed -E 's/#include "([a-z_]+)\//\1/' | sort -u); do
            case "$may" in *" $inc "*) ;; *) bad="$bad $layer->$inc" ;; esac
        done
        [ "$layer" = plugin ] && continue
        for inc in $(grep -ohE '^#include <(zmq|yaml|sodium|pmix|lapacke|dlfcn|slurm/spank|slurm/pmi2)\.h>' "$dir"*.[ch] |
            sed -E 's/#include <([a-z0-9/]+)\.h>/\1/' | sort -u); do
            case "$outside" in *" $inc "*) ;; *) bad="$bad $layer-><$inc.h>" ;; esac
        done
        row=$(grep -E "^\| \`$layer\` \|" "$ROOT/docs/ARCHITECTURE.md" | head -1)
        [ -n "$row" ] || { bad="$bad $layer(not in ARCHITECTURE's table)"; continue; }
        table=$(echo "$row" | awk -F'|' '{print $3}' | sed 's/([^)]*)//g; s/[`—]//g' | tr ',' '\n' |
            sed 's/^ *//; s/ *$//' | grep -v '^$' | sort | tr '\n' ' ')
        [ "$table" = "$(readme_list "$readme" 'May include' | tr '\n' ' ')" ] ||
            bad="$bad $layer(ARCHITECTURE says '$table', its README '$(readme_list "$readme" 'May include' | tr '\n' ' ')')"
    done
    [ "$(ls -d "$ROOT"/farm/*/ | wc -l)" = "$(grep -cE '^\| `[a-z]+` \|' "$ROOT/docs/ARCHITECTURE.md" | awk '{print $1 - 1}')" ] ||
        bad="$bad (ARCHITECTURE's table and farm/ have different layers)"
    [ -z "$bad" ] || fail "the layer rule (folder READMEs) is broken:$bad"
}

# One protocol version: EVO_PROTO_VERSION in farm/wire/proto.h; the
# specification and the maps that name it must say the same.
t_one_protocol_version() {
    local v
    v=$(sed -n 's/^#define EVO_PROTO_VERSION *\([0-9]*\)$/\1/p' "$ROOT/farm/wire/proto.h")
    [ -n "$v" ] || fail "no EVO_PROTO_VERSION in farm/wire/proto.h"
    grep -qx "# evo-farm wire protocol, version $v" "$ROOT/docs/protocol.md" || fail "docs/protocol.md's title is not version $v"
    grep -qF "version is \`$v\`" "$ROOT/docs/protocol.md" || fail "docs/protocol.md's header row is not version $v"
    grep -qF "the version is this one ($v)" "$ROOT/docs/protocol.md" || fail "docs/protocol.md's validation is not version $v"
    grep -q "^wire — protocol v$v " "$ROOT/farm/wire/README" || fail "farm/wire/README is not protocol v$v"
    grep -qF "protocol v$v codec" "$ROOT/docs/ARCHITECTURE.md" || fail "docs/ARCHITECTURE.md is not protocol v$v"
    grep -qF "protocol v$v messages" "$ROOT/farm/wire/proto.h" || fail "farm/wire/proto.h's comment is not v$v"
}

# One version: VERSION; the command, the pkg-config file, the Debian
# changelog and the RPM spec take it from there.
t_one_version() {
    local version stray
    version=$(cat "$ROOT/VERSION")
    "$EVO" --version | grep -q "^evo-farm $version " || fail "evo-farm --version: $("$EVO" --version)"
    head -1 "$ROOT/packaging/debian/changelog" | grep -qF "evo-farm ($version)" ||
        fail "packaging/debian/changelog does not start with $version"
    grep -q '^Version: *%{evo_version}$' "$ROOT/packaging/rpm/evo-farm.spec" || fail "the RPM spec has its own version"
    make -s -C "$ROOT" install DESTDIR="$SCRATCH/root" PREFIX=/usr BUILD="$BUILD" > /dev/null
    grep -qx "Version: $version" "$SCRATCH/root/usr/lib/pkgconfig/evofarm.pc" || fail "evofarm.pc has another version"
    grep -q "\"evo-farm $version\"" "$SCRATCH/root/usr/share/man/man1/evo-farm.1" || fail "evo-farm(1) has another version"
    stray=$(cd "$ROOT" && git grep -lF "$version" -- ':!VERSION' ':!packaging/*/changelog' ':!packaging/rpm/evo-farm.spec' \
        ':!docs/*' || true)
    [ -z "$stray" ] || fail "the version is written in: $stray"
}

# run_tests itself: a test that hangs is killed after TEST_LIMIT seconds
# with what it started, fails with a line that says so and the suite's
# on_test_overrun output, and the tests after it still run.
t_a_hanging_test_fails_alone() {
    cat > "$SCRATCH/suite.sh" <<'SUITE'
CHILD=$2
. "$1/tests/integration/lib.sh"
t_1_hangs() { sleep 300 & echo "$!" > "$CHILD"; sleep 300; }
t_2_after() { true; }
on_test_overrun() { echo "overrun hook: $1"; }
TEST_LIMIT=1 run_tests demo
SUITE
    local rc=0
    timeout 30 env -u TESTS -u VERBOSE bash "$SCRATCH/suite.sh" "$ROOT" "$SCRATCH/child" > "$SCRATCH/out" 2>&1 || rc=$?
    [ "$rc" = 1 ] || { cat "$SCRATCH/out"; fail "the suite exited $rc, not 1"; }
    expect_in "$SCRATCH/out" "FAIL: still running after 1 s: killed with all it started"
    expect_in "$SCRATCH/out" "overrun hook: t_1_hangs"
    expect_in "$SCRATCH/out" "PASS t_2_after"
    expect_in "$SCRATCH/out" "demo: 1 passed, 1 failed: t_1_hangs"
    local child i
    child=$(cat "$SCRATCH/child")
    for i in $(seq 50); do # killed, it may be a zombie a moment before its new parent reaps it
        kill -0 "$child" 2> /dev/null || return 0
        sleep 0.1
    done
    fail "what the hung test started (PID $child) still runs"
}
