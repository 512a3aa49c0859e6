#!/usr/bin/env python3
"""Write docs/errors/<code>.md and docs/errors/README.md from the catalogue
(`pkictl explain --list --json`), so the docs never drift from the table.

usage: tools/gen-error-docs.py PKICTL [--check]
--check: exit 1 if any page is missing or differs (used by the tests)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "errors"


def pages(codes):
    index = ["# pkid error codes", "",
             "Every failure pkid reports carries one of these codes. "
             "`pkictl explain CODE` prints the same text.", "",
             "| code | category | what |", "| --- | --- | --- |"]
    out = {}
    for c in codes:
        related = ", ".join(f"[{r}]({r}.md)" for r in c["related"].split())
        body = [f"# {c['code']}", "",
                f"Category: {c['category']} (number {c['number']}).", "",
                "## What it means", "", c["summary"], "",
                "## Usual causes", "", c["causes"] or "-", "",
                "## What to do", "", c["remedy"], ""]
        if related:
            body += ["## Related", "", related, ""]
        out[f"{c['code']}.md"] = "\n".join(body)
        index.append(f"| [{c['code']}]({c['code']}.md) | {c['category']} "
                     f"| {c['summary']} |")
    out["README.md"] = "\n".join(index) + "\n"
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    codes = json.loads(subprocess.run([sys.argv[1], "explain", "--list",
                                       "--json"], check=True,
                                      capture_output=True,
                                      text=True).stdout)
    want = pages(codes)
    if "--check" in sys.argv:
        bad = [n for n, t in want.items()
               if not (OUT / n).exists() or (OUT / n).read_text() != t]
        extra = [p.name for p in OUT.glob("*.md") if p.name not in want]
        for n in bad:
            print(f"docs/errors/{n} is missing or stale")
        for n in extra:
            print(f"docs/errors/{n} names no code")
        if bad or extra:
            print("fix: run tools/gen-error-docs.py build/pkictl")
            sys.exit(1)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.md"):
        if p.name not in want:
            p.unlink()
    for n, t in want.items():
        (OUT / n).write_text(t)
    print(f"wrote {len(want)} pages to {OUT}")


if __name__ == "__main__":
    main()
