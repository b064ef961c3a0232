#!/usr/bin/env bash
# Regenerates sepa-samples/collect-*.xml: one pain.008 per message version and bank profile,
# collected from the demo data. Usage: scripts/make-samples.sh (from the repository root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/collecte"
cargo build --release -q --manifest-path "$root/Cargo.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

profile() { # name, bank settings (TOML lines)
  local dir="$work/$1"
  mkdir -p "$dir" && cd "$dir"
  DATABASE_URL="sqlite://$dir/collecte.db" "$bin" init >/dev/null
  python3 - "$dir/collecte.toml" "$2" <<'PY'
import sys
path, settings = sys.argv[1], sys.argv[2]
text = open(path).read()
keys = {l.split("=")[0].strip() for l in settings.splitlines() if "=" in l}
out, in_bank = [], False
for line in text.splitlines():
    t = line.strip()
    if t.startswith("["):
        in_bank = t.startswith("[bank]")
    if in_bank and not t.startswith("#") and t.split("=")[0].strip() in keys:
        continue
    out.append(line)
    if t.startswith("[bank]"):
        out.append(settings)
open(path, "w").write("\n".join(out) + "\n")
PY
  DATABASE_URL="sqlite://$dir/collecte.db" "$bin" import all "$root/demo" --date 2026-11-20 >/dev/null
  DATABASE_URL="sqlite://$dir/collecte.db" "$bin" run collect --date 2026-12-09 >/dev/null
  cp "$dir"/outbox/*.xml "$root/sepa-samples/collect-$1.xml"
}

profile "pain.008.001.08-default" ""
profile "pain.008.001.02-iban-only-rcur" $'pain_version = "pain.008.001.02"\ninclude_bic = false\nuse_frst = false'
profile "pain.008.001.08-hybrid-b2b-fnal" $'address_style = "hybrid"\nlocal_instrument = "B2B"\nuse_fnal = true\nbatch_booking = false\ngroup_ctrl_sum = false'
echo "wrote $(ls "$root"/sepa-samples/collect-*.xml | wc -l) samples into sepa-samples/"

# The bank's answers to the default and the .02 files, as `collecte demo` plays the bank
# (examples/play_bank.rs; the reply versions follow the pain.008 version).
cargo run --release -q --manifest-path "$root/Cargo.toml" --example play_bank -- \
  "$root/sepa-samples/collect-pain.008.001.08-default.xml" "$root/sepa-samples"
cargo run --release -q --manifest-path "$root/Cargo.toml" --example play_bank -- \
  "$root/sepa-samples/collect-pain.008.001.02-iban-only-rcur.xml" "$root/sepa-samples"
echo "wrote the bank replies into sepa-samples/"
