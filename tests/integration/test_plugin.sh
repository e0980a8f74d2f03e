# test_plugin.sh — what the SPANK plugin shows the world: only the SPANK
# entry points and plugin identity (plugin/spank_evo_farm.map), nothing of
# the config loader or libyaml users it carries.

t_plugin_exports_only_spank_symbols() {
    local so="$ROOT/$BUILD/plugin/spank_evo_farm.so" symbols extra
    symbols=$(nm -D --defined-only "$so" | awk '{print $3}')
    echo "$symbols" | grep -q '^slurm_spank_init$' || fail "slurm_spank_init not exported"
    echo "$symbols" | grep -q '^slurm_spank_task_init$' || fail "slurm_spank_task_init not exported"
    extra=$(echo "$symbols" | grep -vE '^(slurm_spank_[a-z_]+|(spank_)?plugin_(name|type|version))$' || true)
    [ -z "$extra" ] || fail "the plugin exports more than its SPANK symbols: $extra"
}
