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

# Which layer may include which (the table in docs/ARCHITECTURE.md), and
# which outside headers each may use.
t_layers_include_only_what_they_may() {
    local dir layer allowed system inc bad=""
    declare -A may=([util]="" [config]="util" [wire]="util" [client]="util wire" [bootstrap]="util"
        [broker]="util config wire" [worker]="util config wire" [cmaes]="util"
        [drivers]="util config cmaes")
    declare -A outside=([util]="" [config]="yaml" [wire]="zmq" [client]="zmq" [bootstrap]="pmix slurm/pmi2"
        [broker]="zmq sodium" [worker]="zmq dlfcn" [cmaes]="lapacke" [drivers]="sodium")
    [ "$(ls -d "$ROOT"/farm/*/ | wc -l)" = "${#may[@]}" ] || fail "farm/ has a folder the table does not know"
    for dir in "$ROOT"/farm/*/; do
        layer=$(basename "$dir")
        [ -n "${may[$layer]+set}" ] || fail "farm/$layer is not in the layer table"
        for inc in $(grep -ohE '^#include "[a-z_]+/' "$dir"*.[ch] | sed -E 's/#include "([a-z_]+)\//\1/' | sort -u); do
            case " ${may[$layer]} evofarm " in *" $inc "*) ;; *) bad="$bad farm/$layer->$inc" ;; esac
        done
        for inc in $(grep -ohE '^#include <(zmq|yaml|sodium|pmix|lapacke|dlfcn|slurm/spank|slurm/pmi2)\.h>' "$dir"*.[ch] |
            sed -E 's/#include <([a-z0-9/]+)\.h>/\1/' | sort -u); do
            case " ${outside[$layer]} " in *" $inc "*) ;; *) bad="$bad farm/$layer-><$inc.h>" ;; esac
        done
    done
    for inc in $(grep -ohE '^#include "[a-z_]+/' "$ROOT"/plugin/*.[ch] | sed -E 's/#include "([a-z_]+)\//\1/' | sort -u); do
        case " util config " in *" $inc "*) ;; *) bad="$bad plugin->$inc" ;; esac
    done
    [ -z "$bad" ] || fail "includes across the layer table:$bad"
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
