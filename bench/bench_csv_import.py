"""How long `entraform import --from-csv` takes on an HR export of 10,000 rows (target: ≤ 10 s).

    .venv/bin/python -m bench.bench_csv_import [--rows 10000] [--declared 9000] [--files 10] [--runs 3]

1. Writes (deterministically, into a temporary folder) a desired state like bench_validate's: DECLARED
   users in FILES files, without groups, and a CSV of ROWS rows keyed by employeeId: the DECLARED users
   (every tenth with a new jobTitle, all with HR attributes they do not have yet: hire date, division,
   cost center, a badge in extensionAttribute1) and ROWS - DECLARED new hires.
2. Times the import in this process on a fresh copy of the tree (median of RUNS): the first merge, which
   edits every declared user and writes the new ones, and a re-run of the same export, which changes
   nothing. Then checks that the merged YAML validates (`load_desired`) and how long that takes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path

from bench.bench_validate import TITLES, timed, write_tree
from reconciler.config import Config
from reconciler.csvimport.run import import_csv
from reconciler.desired.loader import load_desired

MAPPING = """\
key: employeeId
newUsers: people/new-hires.yaml
columns:
  Worker ID: employeeId
  Work Email: userPrincipalName
  Preferred Name: displayName
  Business Title: jobTitle
  Supervisory Org: department
  Division: employeeOrgData.division
  Cost Center: employeeOrgData.costCenter
  Hire Date: employeeHireDate
  Badge: onPremisesExtensionAttributes.extensionAttribute1
  Work Country: usageLocation
"""
HEADER = (
    "Worker ID,Work Email,Preferred Name,Business Title,Supervisory Org,Division,Cost Center,Hire Date,Badge,"
    "Work Country"
)


def write_csv(path: Path, rows: int, declared: int) -> None:
    rng = random.Random(7)
    lines = [HEADER]
    for n in range(rows):
        title = rng.choice(TITLES) if n % 10 == 0 else ""
        upn = f"user{n}@contoso.example" if n < declared else f"hire{n}@contoso.example"
        hired = f"20{10 + n % 15:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        lines.append(
            f"E{n:06d},{upn},User {n},{title},Department {n % 20},Division {n % 4},CC-{n % 50},{hired},"
            f"B-{n},{'US' if n % 2 else 'GB'}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--declared", type=int, default=9_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pristine = write_tree(folder / "pristine", args.declared, 0, args.files)
        (pristine / "groups.yaml").unlink()
        csv_file, map_file = folder / "hr.csv", folder / "map.yaml"
        write_csv(csv_file, args.rows, args.declared)
        map_file.write_text(MAPPING, encoding="utf-8")
        work = folder / "work" / "state"

        def fresh() -> None:
            shutil.rmtree(work.parent, ignore_errors=True)
            shutil.copytree(pristine, work)

        def first_merge() -> object:
            fresh()
            return import_csv(work, str(csv_file), str(map_file))

        # The copy is timed with the merge; measured apart so that it can be taken off.
        copy_wall, _ = timed(args.runs, fresh)
        wall, cpu = timed(args.runs, first_merge)
        fresh()
        merged = import_csv(work, str(csv_file), str(map_file))
        reruns: list[int] = []
        rerun_wall, rerun_cpu = timed(
            args.runs, lambda: reruns.append(import_csv(work, str(csv_file), str(map_file)).updated)
        )
        config = Config(state_dir=str(work))
        load_wall, _ = timed(1, lambda: load_desired(config))
        users = len(load_desired(config).users)
    print(f"rows={args.rows} declared={args.declared} files={args.files} runs={args.runs}")
    print(
        f"first merge: {wall - copy_wall:.2f} s wall (median, the copy of the tree taken off), "
        f"{cpu:.2f} s CPU; {merged.updated} users updated, {merged.created} new"
    )
    print(
        f"re-run:      {rerun_wall:.2f} s wall (median), {rerun_cpu:.2f} s CPU; {max(reruns)} users updated"
    )
    print(f"the merged YAML validates: {users} users loaded in {load_wall:.2f} s")


if __name__ == "__main__":
    main()
