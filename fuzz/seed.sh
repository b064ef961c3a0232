#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs, at run time only: the third-party bank samples
# in shared/sepa-samples/public must not be copied into the project, so nothing here is
# committed (fuzz/corpus is ignored).
#
# Usage: fuzz/seed.sh [SAMPLES_DIR]
#   SAMPLES_DIR defaults to $SEPA_SAMPLES, else ../shared/sepa-samples/public beside the
#   project's main checkout.
set -euo pipefail

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$fuzz_dir/.." && pwd)
# A worktree's ../shared is not the main checkout's: find the main checkout through git.
main_checkout=$(cd "$(git -C "$project" rev-parse --git-common-dir)/.." && pwd)
samples=${1:-${SEPA_SAMPLES:-}}
if [[ -z $samples ]]; then
    for candidate in "$project/../shared/sepa-samples/public" "$main_checkout/../shared/sepa-samples/public"; do
        if [[ -d $candidate ]]; then samples=$candidate; break; fi
    done
fi
if [[ -z $samples || ! -d $samples ]]; then
    echo "seed.sh: no sample folder (give it as an argument or in SEPA_SAMPLES)" >&2
    exit 1
fi
corpus=$fuzz_dir/corpus
mkdir -p "$corpus"/{pain002,camt,inspect_reports,pain008_inspect,import_csv,money_and_ids}

copy() { # copy FILE TARGET
    cp -- "$1" "$corpus/$2/$(basename "$1")"
}
shopt -s nullglob
for f in "$samples"/pain.002/*.xml; do copy "$f" pain002; copy "$f" inspect_reports; done
for f in "$samples"/camt.05[234]/*.xml; do copy "$f" camt; copy "$f" inspect_reports; done
for f in "$samples"/pain.008/*.xml "$project"/sepa-samples/*.xml; do copy "$f" pain008_inspect; done
# A pain.008 given to the report readers is a NotAReport path worth covering.
for f in "$project"/sepa-samples/*.xml; do copy "$f" pain002; done
# Our own bank replies: batch bookings, returns, refunds, B2B, LclInstrm and OrgnlBkTxCd.
for f in "$project"/sepa-samples/reply-camt.*.xml; do copy "$f" camt; done

# Zip archives for inspect_reports: one stored, one deflated, each with a pain.002 and a camt.
if command -v python3 >/dev/null; then
    python3 - "$corpus/inspect_reports" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
xml = sorted(f for f in os.listdir(out) if f.endswith(".xml"))
pain = [f for f in xml if "pain" in f.lower()][:1]
camt = [f for f in xml if "camt" in f.lower()][:1]
for name, method in (("stored.zip", zipfile.ZIP_STORED), ("deflated.zip", zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(os.path.join(out, name), "w", method) as z:
        for f in pain + camt or xml[:2]:
            z.write(os.path.join(out, f), f)
PY
fi

# import_csv: the first byte picks the kind, in ImportKind::ALL order.
kinds=(customers mandates cards plans invoices payments)
for i in "${!kinds[@]}"; do
    csv=$project/demo/${kinds[$i]}.csv
    [[ -f $csv ]] || continue
    { printf "\\x$(printf %02x "$i")"; cat "$csv"; } > "$corpus/import_csv/${kinds[$i]}.csv"
done

# money_and_ids: one value a file.
i=0
for value in "12.30" "1 234,56" "1.234,56" "1,234.56" "999999999.99" "0.01" "+7" \
    "FR76 3000 6000 0112 3456 7890 189" "DE89370400440532013000" "GB82WEST12345698765432" \
    "BNPAFRPPXXX" "DEUTDEFF" "FR72ZZZ123456" "DE98ZZZ09999999999" "MANDATE-2024/001" \
    "Müller & Søn — Ærø Straße 12" "Ελληνικά Ωmega" "Łódź Świętokrzyska"; do
    printf '%s' "$value" > "$corpus/money_and_ids/seed$i"
    i=$((i + 1))
done

for d in "$corpus"/*/; do printf '%-18s %s files\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"; done
