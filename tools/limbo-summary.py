#!/usr/bin/env python3
"""Summarise x509-limbo results against a corpus, by namespace.

    limbo-summary.py CORPUS.json RESULTS.json [--baseline FILE [--check]]
                     [--write-baseline FILE] [--failures]

A case is "right" when actual_result equals expected_result, "wrong" when it
differs, "skip" when SKIPPED. The namespace is the part of the id before the
first "::". With --check, exit 1 when fewer cases are right than in the
baseline, or when a case the baseline lists as right is no longer right.
The baseline is {"right": [ids...]} (written by --write-baseline).
"""

import argparse
import json
import sys
from collections import OrderedDict


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tally(corpus, results):
    expected = {t["id"]: t["expected_result"] for t in corpus["testcases"]}
    actual = {r["id"]: r for r in results["results"]}
    rows = OrderedDict()
    right, wrong, skipped = [], [], []
    for cid, exp in expected.items():
        ns = cid.split("::", 1)[0]
        row = rows.setdefault(ns, [0, 0, 0])
        r = actual.get(cid)
        if r is None or r["actual_result"] == "SKIPPED":
            row[2] += 1
            skipped.append((cid, r["context"] if r else "no result"))
        elif r["actual_result"] == exp:
            row[0] += 1
            right.append(cid)
        else:
            row[1] += 1
            wrong.append((cid, exp, r["actual_result"], r.get("context", "")))
    return rows, right, wrong, skipped


def print_table(rows, harness):
    print("harness: %s" % harness)
    print("%-14s %6s %6s %6s" % ("namespace", "right", "wrong", "skip"))
    tot = [0, 0, 0]
    for ns, row in rows.items():
        print("%-14s %6d %6d %6d" % (ns, row[0], row[1], row[2]))
        tot = [a + b for a, b in zip(tot, row)]
    print("%-14s %6d %6d %6d" % ("total", tot[0], tot[1], tot[2]))


def check(baseline, right):
    base = set(baseline.get("right", []))
    now = set(right)
    lost = sorted(base - now)
    bad = False
    if len(now) < len(base):
        print("REGRESSION: %d right, baseline %d" % (len(now), len(base)))
        bad = True
    for cid in lost:
        print("REGRESSION: %s passed in the baseline, not now" % cid)
        bad = True
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("results")
    ap.add_argument("--baseline")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write-baseline")
    ap.add_argument("--failures", action="store_true",
                    help="list wrong and skipped cases")
    a = ap.parse_args()
    if a.check and not a.baseline:
        ap.error("--check needs --baseline")
    results = load(a.results)
    rows, right, wrong, skipped = tally(load(a.corpus), results)
    print_table(rows, results.get("harness", "?"))
    if a.failures:
        for cid, exp, act, ctx in wrong:
            print("wrong: %s: expected %s, got %s (%s)" % (cid, exp, act, ctx))
        for cid, ctx in skipped:
            print("skip: %s: %s" % (cid, ctx))
    if a.write_baseline:
        with open(a.write_baseline, "w", encoding="utf-8") as f:
            json.dump({"harness": results.get("harness", "?"),
                       "right": sorted(right)}, f, indent=1)
            f.write("\n")
    if a.check and check(load(a.baseline), right):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
