# test_man.sh — the man pages: they render without a groff warning, the
# configuration page names every key the loader accepts, and the command's
# page every subcommand and option of its usage.

t_man_pages_render_clean() {
    local page
    for page in "$ROOT"/man/*.[158]; do
        groff -ww -man -Tutf8 -z "$page" > "$SCRATCH/warn" 2>&1 || fail "groff failed on $page"
        [ ! -s "$SCRATCH/warn" ] || { cat "$SCRATCH/warn"; fail "groff warns about $page"; }
        MANWIDTH=80 man -l "$page" 2> "$SCRATCH/warn" | grep -q "^NAME" || fail "man -l cannot render $page"
        [ ! -s "$SCRATCH/warn" ] || { cat "$SCRATCH/warn"; fail "man -l warns about $page"; }
    done
    [ "$(ls "$ROOT"/man/*.[158] | wc -l)" = 3 ] || fail "expected 3 man pages"
}

t_man_yaml_names_every_key() {
    local keys key missing=""
    keys=$(grep -ohE '\{"[a-z_]+", *(farm|evaluate|environment|optimize|output)_[a-z_]+\}' "$ROOT"/farm/config/*.c |
        sed -E 's/\{"([a-z_]+)".*/\1/' | sort -u)
    [ "$(echo "$keys" | wc -l)" -ge 30 ] || fail "found only $(echo "$keys" | wc -l) keys in the loader"
    for key in $keys; do
        grep -qE "^\.BR? $key( |$)" "$ROOT/man/evo-farm.yaml.5" || missing="$missing $key"
    done
    [ -z "$missing" ] || fail "evo-farm.yaml(5) does not describe:$missing"
}

t_man_command_names_every_subcommand() {
    local word
    for word in run check status plot --resume -n -q --version --help; do
        grep -q -- "$word" <("$EVO" --help) || fail "--help lacks $word"
        MANWIDTH=200 man -l "$ROOT/man/evo-farm.1" 2> /dev/null | grep -q -- "$word" || fail "evo-farm(1) lacks $word"
    done
}
