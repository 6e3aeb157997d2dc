"""schemas/checks.yaml: what each quality check is called, its severity and cause, and why it exists.

The one source for docs/quality.md's table (`checks_markdown`), the workbench's explanations and
the GX suites' descriptions. `load_checks()` validates the file and raises ConfigError naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gknb.errors import ConfigError

CHECKS_FILE = "checks.yaml"
SEVERITIES = ("error", "warning")
CAUSES = ("source", "extraction")
FIELDS = ("check_id", "severity", "cause", "title", "compares", "explanation", "params")


@dataclass(frozen=True)
class CheckInfo:
    check_id: str
    severity: str
    cause: str
    title: str
    compares: str
    explanation: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckCatalog:
    checks: tuple[CheckInfo, ...]
    settings: dict

    def get(self, check_id: str) -> CheckInfo:
        for c in self.checks:
            if c.check_id == check_id:
                return c
        raise KeyError(check_id)

    def setting(self, name: str, default=None):
        return self.settings.get(name, default)


def checks_path() -> Path:
    from gknb.paths import SCHEMAS_DIR

    return Path(SCHEMAS_DIR) / CHECKS_FILE


def read_checks(path: Path) -> CheckCatalog:
    import yaml

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{path}: {message}")

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise fail(f"not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("checks"), list) or not raw["checks"]:
        raise fail("expected a mapping with a non-empty `checks` list")
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        raise fail("`settings` must be a mapping")
    for key in ("data_docs_keep_runs", "gx_batch_rows"):
        if key in settings and (not isinstance(settings[key], int) or isinstance(settings[key], bool)
                                or settings[key] < 1):
            raise fail(f"settings.{key} must be a whole number >= 1, not {settings[key]!r}")
    out: list[CheckInfo] = []
    for i, entry in enumerate(raw["checks"], start=1):
        if not isinstance(entry, dict):
            raise fail(f"check #{i} is not a mapping")
        unknown = set(entry) - set(FIELDS)
        if unknown:
            raise fail(f"check #{i}: unknown field(s) {sorted(unknown)}")
        cid = entry.get("check_id")
        for name in ("check_id", "severity", "cause", "title", "compares", "explanation"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise fail(f"check {cid or '#' + str(i)}: `{name}` must be non-empty text")
        if entry["severity"] not in SEVERITIES:
            raise fail(f"check {cid}: severity {entry['severity']!r} is not one of {SEVERITIES}")
        if entry["cause"] not in CAUSES:
            raise fail(f"check {cid}: cause {entry['cause']!r} is not one of {CAUSES}")
        if len(entry["explanation"].split()) < 8:
            raise fail(f"check {cid}: the explanation must say why in a sentence (8 words or more)")
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise fail(f"check {cid}: params must be a mapping")
        out.append(CheckInfo(cid, entry["severity"], entry["cause"], entry["title"].strip(),
                             " ".join(entry["compares"].split()), " ".join(entry["explanation"].split()),
                             params))
    ids = [c.check_id for c in out]
    twice = sorted({x for x in ids if ids.count(x) > 1})
    if twice:
        raise fail(f"check ids named twice: {twice}")
    return CheckCatalog(tuple(out), settings)


@lru_cache(maxsize=4)
def _load(path: str) -> CheckCatalog:
    return read_checks(Path(path))


def load_checks() -> CheckCatalog:
    """The checks of schemas/checks.yaml, validated (ConfigError naming the file). Cached."""
    return _load(str(checks_path()))


def checks_markdown(catalog: CheckCatalog | None = None) -> str:
    """docs/quality.md's table of checks, generated from schemas/checks.yaml."""
    catalog = catalog or load_checks()
    lines = ["| check | severity | cause | what it compares (expected vs observed) | why it exists |",
             "| --- | --- | --- | --- | --- |"]
    for c in catalog.checks:
        cells = [f"`{c.check_id}`", c.severity, c.cause, c.compares, c.explanation]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Rewrites docs/quality.md's table of checks from schemas/checks.yaml (a development step)."""
    import re
    import sys

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/quality.md")
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- checks:begin[^\n]*-->\n).*?(<!-- checks:end -->)",
                 lambda m: m.group(1) + checks_markdown() + m.group(2), text, flags=re.S)
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
