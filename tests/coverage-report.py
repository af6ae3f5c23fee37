#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make check-coverage's table: per file of lib/ and tools/, the lines and
branches that make check covered (from gcovr's JSON summary), a total line
per directory, and whether the project's targets are met: lib/ at least
98% of lines and 95% of branches, tools/ at least 90% of lines.

    coverage-report.py SUMMARY.json [--enforce]
"""
import json
import sys

TARGETS = {"lib/": {"line": 98.0, "branch": 95.0}, "tools/": {"line": 90.0}}


def percent(covered, total):
    return 100.0 * covered / total if total else 100.0


def row(name, f):
    return (f"{name:<28} {f['line_covered']:>6}/{f['line_total']:<6} "
            f"{percent(f['line_covered'], f['line_total']):6.1f}%  "
            f"{f['branch_covered']:>6}/{f['branch_total']:<6} "
            f"{percent(f['branch_covered'], f['branch_total']):6.1f}%")


def main():
    summary = json.load(open(sys.argv[1]))
    enforce = "--enforce" in sys.argv[2:]
    print(f"{'file':<28} {'lines':>13} {'':>7}  {'branches':>13}")
    missed = []
    for directory, targets in TARGETS.items():
        files = sorted((f for f in summary["files"] if f["filename"].startswith(directory)),
                       key=lambda f: f["filename"])
        total = {k: sum(f[k] for f in files)
                 for k in ("line_covered", "line_total", "branch_covered", "branch_total")}
        for f in files:
            print(row(f["filename"], f))
        print(row(f"total {directory}", total))
        for kind, want in targets.items():
            got = percent(total[f"{kind}_covered"], total[f"{kind}_total"])
            verdict = "met" if got >= want else "NOT MET"
            what = {"line": "lines", "branch": "branches"}[kind]
            print(f"  target {directory} {what} >= {want:.0f}%: {got:.1f}%, {verdict}")
            if got < want:
                missed.append(f"{directory} {what}")
        print()
    everything = {k: summary[k] for k in ("line_covered", "line_total", "branch_covered",
                                          "branch_total")}
    print(row("total", everything))
    if missed and enforce:
        print("coverage below target: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
