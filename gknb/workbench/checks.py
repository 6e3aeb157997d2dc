"""What each check means, for the workbench's explanation page.

The one place for these words is `schemas/checks.yaml` (owner: the quality stage). Until a
checkout has it, the explanation comes from the check definitions themselves (their severity and
their one-sentence `why`) and, in a development checkout, the checks table of docs/quality.md.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def explanations() -> dict[str, dict]:
    """check_id -> {check_id, severity, cause, title, explanation, compares}."""
    out: dict[str, dict] = {}
    for c in _from_suites():
        out[c["check_id"]] = c
    for c in _from_docs():
        out.setdefault(c["check_id"], {"check_id": c["check_id"]}).update(
            {k: v for k, v in c.items() if v and not out.get(c["check_id"], {}).get(k)})
    for c in _from_yaml():
        out.setdefault(c["check_id"], {"check_id": c["check_id"]}).update({k: v for k, v in c.items() if v})
    for c in out.values():
        c.setdefault("severity", None)
        c.setdefault("cause", None)
        c.setdefault("title", None)
        c.setdefault("explanation", None)
        c.setdefault("compares", None)
    return dict(sorted(out.items()))


def _from_yaml() -> list[dict]:
    import yaml

    from gknb.paths import SCHEMAS_DIR

    path = SCHEMAS_DIR / "checks.yaml"
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if isinstance(data, dict) and "checks" in data:
        data = data["checks"]
    if isinstance(data, dict):  # check_id: {...}
        data = [{"check_id": k, **(v or {})} for k, v in data.items()]
    out = []
    for item in data:
        if isinstance(item, dict) and (item.get("check_id") or item.get("id")):
            cid = str(item.get("check_id") or item.get("id"))
            out.append({"check_id": cid, "severity": item.get("severity"), "cause": item.get("cause"),
                        "title": item.get("title"),
                        "explanation": item.get("explanation") or item.get("why") or item.get("description"),
                        "compares": item.get("compares")})
    return out


def _from_suites() -> list[dict]:
    try:
        from gknb.quality.suites import all_checks

        return [{"check_id": c.check_id, "severity": c.severity, "explanation": " ".join(c.why.split())}
                for c in all_checks()]
    except Exception:  # noqa: BLE001 - the page still lists what the other sources say
        return []


_ROW = re.compile(r"^\|\s*`(?P<ids>[^|]+?)`\s*\|\s*(?P<severity>error|warning)\s*\|\s*(?P<compares>[^|]+?)\s*\|"
                  r"(?:\s*(?P<why>[^|]+?)\s*\|)?\s*$")


def _from_docs() -> list[dict]:
    from gknb.paths import PACKAGE_DIR

    root = Path(PACKAGE_DIR).parent
    path = root / "docs" / "quality.md"
    if not (root / "pyproject.toml").exists() or not path.exists():  # a development checkout only
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        for cid in re.findall(r"[A-Za-z0-9_.]+", m.group("ids")):
            out.append({"check_id": cid, "severity": m.group("severity"), "compares": m.group("compares"),
                        "explanation": m.group("why")})
    return out
