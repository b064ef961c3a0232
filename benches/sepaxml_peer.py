#!/usr/bin/env python3
"""The python `sepaxml` peer of `benches/bench_collect.rs`: the same collections, pain.008.001.08.

    python3 benches/sepaxml_peer.py POOL.json N [--out FILE] [--validate]

POOL.json is the list of collections the Rust harness writes (the same ones its writers cycle
through); collection i is POOL[i % len(POOL)], the first N/10 FRST and the rest RCUR, all due
2026-11-23. Building the input dicts is not timed; what is timed is what a sepaxml user pays for
generation: SepaDD(...), add_payment for every collection (transliteration included, sepaxml's
`clean=True` default) and export(). export(validate=False) unless --validate (sepaxml then checks
the document against the XSD with `xmlschema`, which is much slower).

Prints one line: `RESULT <seconds> <bytes> <transactions>`.
sepaxml has no mandate amendments: the 5% of collections that carry one in the Rust runs are
written without it here.
"""
import argparse
import datetime
import json
import sys
import time

from sepaxml import SepaDD


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pool")
    ap.add_argument("n", type=int)
    ap.add_argument("--out")
    ap.add_argument("--validate", action="store_true")
    args = ap.parse_args()
    with open(args.pool, encoding="utf-8") as f:
        pool = json.load(f)
    n = args.n
    first = max(1, min(max(n // 10, 1), n - 1))
    signed = datetime.date(2024, 3, 1)
    due = datetime.date(2026, 11, 23)
    payments = []
    for i in range(n):
        p = pool[i % len(pool)]
        pay = {
            "name": p["name"],
            "IBAN": p["iban"],
            "amount": p["cents"],
            "type": "FRST" if i < first else "RCUR",
            "collection_date": due,
            "mandate_id": p["mandate"],
            "mandate_date": signed,
            "description": p["remittance"],
            "endtoend_id": p["e2e"],
        }
        if p["bic"]:
            pay["BIC"] = p["bic"]
        if p["address"]:
            pay["address"] = {
                "street_name": "Rue Victor Hugo",
                "building_number": "12",
                "postcode": "69002",
                "town": "Lyon",
                "country": "FR",
            }
        payments.append(pay)
    config = {
        "name": "Abonnements Durand SAS",
        "IBAN": "FR1420041010050500013M02606",
        "BIC": "BNPAFRPPXXX",
        "batch": True,
        "creditor_id": "FR72ZZZ123456",
        "currency": "EUR",
    }

    start = time.perf_counter()
    sdd = SepaDD(config, schema="pain.008.001.08", clean=True)
    for pay in payments:
        sdd.add_payment(pay)
    out = sdd.export(validate=args.validate)
    took = time.perf_counter() - start

    if args.out:
        with open(args.out, "wb") as f:
            f.write(out)
    print(f"RESULT {took:.6f} {len(out)} {n}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
