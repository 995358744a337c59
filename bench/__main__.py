"""The one benchmark: entraform against both baselines at 1k, 10k and 100k users, written up in docs/.

    .venv/bin/python -m bench [--quick] [--sizes 1k,10k,100k] [--latencies 0,200] [--sample-users N] [--merge]
    .venv/bin/python -m bench --report-only     # docs again from docs/benchmarks.json

Sizes: 1k = synthetic:1000:100:5000, 10k = synthetic:10000:1000:50000, 100k =
synthetic:100000:10000:1000000. `--quick` is `--sizes 1k,10k`: about 13 minutes on 2 busy cores, most of
it the baselines (a's 10 parallel refreshes at 200 ms a round trip; b's typed models at ~8 ms an
object). The 100k size adds roughly half an hour more (seeding, and each command at 100k at both
latencies; the baselines' samples stay the same size). Rows go to docs/benchmarks.json (`--merge`
keeps the rows of sizes and latencies not measured again); docs/benchmarks.md and docs/bench-*.png are
written from them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.report import ratio_texts, write
from bench.suite import Row, bench_size

SIZES = {
    "1k": "synthetic:1000:100:5000",
    "10k": "synthetic:10000:1000:50000",
    "100k": "synthetic:100000:10000:1000000",
}
DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1k,10k,100k", help="Comma-separated, of: " + ", ".join(SIZES))
    parser.add_argument("--quick", action="store_true", help="Only 1k and 10k.")
    parser.add_argument("--latencies", default="0,200", help="latency_ms values, comma-separated.")
    parser.add_argument(
        "--sample-users", type=int, default=1000, help="Users the baselines read at most (groups alike)."
    )
    parser.add_argument("--report-only", action="store_true", help="Rewrite docs/ from docs/benchmarks.json.")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="Keep the rows of docs/benchmarks.json for sizes and latencies this run does not measure.",
    )
    args = parser.parse_args()
    DOCS.mkdir(exist_ok=True)
    rows_file = DOCS / "benchmarks.json"
    if args.report_only:
        saved = json.loads(rows_file.read_text(encoding="utf-8"))
        write(saved["rows"], DOCS, saved["command"])
        return
    names = ["1k", "10k"] if args.quick else args.sizes.split(",")
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        sys.exit(f"error: unknown size {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    latencies = [int(x) for x in args.latencies.split(",")]
    rows: list[Row] = []
    for name in names:
        rows += bench_size(SIZES[name], latencies, args.sample_users)
    command = ("python -m bench " + " ".join(sys.argv[1:])).strip()
    if args.merge and rows_file.exists():
        saved = json.loads(rows_file.read_text(encoding="utf-8"))
        measured = {(r["seed"], r["latency_ms"]) for r in rows}
        rows = [r for r in saved["rows"] if (r["seed"], r["latency_ms"]) not in measured] + rows
        command = f"{saved['command']}, then {command}"
    rows_file.write_text(json.dumps({"command": command, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    write(rows, DOCS, command)
    for users, latency, ru, wall in ratio_texts(rows):
        print(f"{users:>7,} users, {latency:3} ms: RU entraform/(a) {ru:>8}   wall entraform/(b) {wall:>7}")


if __name__ == "__main__":
    main()
