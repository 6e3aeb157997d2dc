"""The template's structure (schemas/template_structure.yaml) as Python: groups, the variant, identities.

Everything that needs to know "which rows are the outcome rows", "which columns add up to 总计" or
"what S3.balance says" asks here, so the extractor, the web-text solver, the synthetic generator
and the SQL checks (through the warehouse table `template_identity_terms`, see `structure_rows`)
read one definition. The cells themselves come from the catalog (gknb.catalog).

    s = load_structure()
    s.outcome_rows("2021", variant_printed=False)   # granted … other_other
    for eq in s.identity_equations("2021", present_rows={"other", ...}):
        eq.identity, eq.row_key, eq.col_key, eq.lhs, eq.rhs   # lhs/rhs: [(section, row, col)]

Blank and nil terms count as 0; an equation with a missing term is not evaluated (CONTRACT.md).
`evaluate` applies that rule once for every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Mapping, NamedTuple

from gknb.errors import ConfigError

STRUCTURE_FILE = "template_structure.yaml"
SCOPES = ("column", "row")
AXES = ("row", "column")
# `form` of an equation in the warehouse table: it holds whatever the report prints (`any`), only
# where the 2021 sub-rows of （六）其他处理 are printed (`split`), or only where the single variant
# row is printed instead (`variant`).
FORMS = ("any", "split", "variant")
TERM_COLUMNS = ("template", "identity", "section", "scope", "row_key", "col_key", "side",
                "term_row_key", "term_col_key", "form")

Key = tuple[int, str, str]


class Equation(NamedTuple):
    """One instance of an identity: sum of `lhs` cells == sum of `rhs` cells."""

    identity: str
    row_key: str | None  # the row (scope row) or None
    col_key: str | None  # the column (scope column) or None
    lhs: list[Key]
    rhs: list[Key]

    @property
    def section(self) -> int:
        return self.lhs[0][0]

    @property
    def terms(self) -> list[Key]:
        return self.lhs + self.rhs


@dataclass(frozen=True)
class Group:
    name: str
    section: int
    axis: str  # "row" or "column"
    keys: dict[str, tuple[str, ...]]  # template -> keys, $refs resolved


@dataclass(frozen=True)
class Variant:
    template: str
    section: int
    row: str
    replaces: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    name: str
    section: int
    scope: str  # "column": one equation per column, terms are rows; "row": the other way round
    over: tuple[str, ...]  # raw terms ($group or key)
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    says: str


@dataclass(frozen=True)
class Verdict:
    """An equation judged on one report's cells."""

    equation: Equation
    left: float
    right: float

    @property
    def holds(self) -> bool:
        return abs(self.left - self.right) <= 1e-9


class Structure:
    def __init__(self, groups: dict[str, Group], variants: dict[str, Variant],
                 identities: tuple[Identity, ...], catalog) -> None:
        self.groups = groups
        self.variants = variants
        self.identities = identities
        self._catalog = catalog

    # ------------------------------------------------------------ rows and columns

    def variant(self, template: str) -> Variant | None:
        return self.variants.get(template)

    def _apply_variant(self, template: str, section: int, keys: Iterable[str], variant_printed: bool,
                       axis: str = "row") -> list[str]:
        """Row keys as printed: with the variant row in place of its sub-rows, or without it."""
        v = self.variants.get(template)
        keys = list(keys)
        if v is None or v.section != section or axis != "row":
            return keys
        out: list[str] = []
        for k in keys:
            if variant_printed and k in v.replaces:
                if v.row not in out:
                    out.append(v.row)
            elif not variant_printed and k == v.row:
                continue
            elif k not in out:
                out.append(k)
        return out

    def group(self, name: str, template: str, variant_printed: bool = False) -> list[str]:
        g = self.groups[name]
        return self._apply_variant(template, g.section, g.keys[template], variant_printed, g.axis)

    def rows(self, template: str, section: int, item: str | None = None, *, group: str | None = None,
             variant_printed: bool = False, variants: bool = False) -> list[str]:
        """Row keys in printed order: a group's, else the catalog's (of one section-2 item).

        The 2021 variant row is left out unless `variant_printed` (then it stands in for its
        sub-rows); `variants=True` keeps every row the catalog names (variant and sub-rows)."""
        if group is not None:
            return self.group(group, template, variant_printed)
        seen: dict[str, None] = {}
        for c in self._catalog.template_cells(template, variants=True):
            if c.section == section and (item is None or c.item == item):
                seen.setdefault(c.row_key, None)
        if variants:
            return list(seen)
        return self._apply_variant(template, section, seen, variant_printed)

    def columns(self, template: str, section: int, item: str | None = None, *,
                group: str | None = None) -> list[str]:
        """Column keys in printed order: a group's, else the catalog's (of one section-2 item)."""
        if group is not None:
            return self.group(group, template)
        seen: dict[str, None] = {}
        for c in self._catalog.template_cells(template, variants=True):
            if c.section == section and (item is None or c.item == item):
                seen.setdefault(c.col_key, None)
        return list(seen)

    def items(self, template: str, section: int = 2) -> list[str]:
        seen: dict[str, None] = {}
        for c in self._catalog.template_cells(template):
            if c.section == section:
                seen.setdefault(c.item, None)
        return list(seen)

    def outcome_rows(self, template: str, variant_printed: bool = False) -> list[str]:
        """The rows S3.outcomes adds up: 予以公开 … the 其他处理 row(s) as printed."""
        return self.group("outcomes", template, variant_printed)

    def variant_printed(self, template: str, present_rows: Iterable | None) -> bool:
        """Whether the report prints the variant row; `present_rows` holds row keys or cell keys."""
        v = self.variants.get(template)
        if v is None or present_rows is None:
            return False
        for r in present_rows:
            if r == v.row or (isinstance(r, tuple) and len(r) >= 2 and r[0] == v.section and r[1] == v.row):
                return True
        return False

    # ------------------------------------------------------------ identities

    def _terms(self, template: str, section: int, raw: Iterable[str], variant_printed: bool,
               axis: str) -> list[str]:
        """Keys of `raw` (keys and $groups) as printed: the variant row in place of its sub-rows
        where the report prints it, else left out."""
        out: list[str] = []
        for t in raw:
            out.extend(self.groups[t[1:]].keys[template] if t.startswith("$") else [t])
        return self._apply_variant(template, section, out, variant_printed, axis)

    def identity_equations(self, template: str, present_rows: Iterable | None = None,
                           *, variant_printed: bool | None = None) -> Iterator[Equation]:
        """Every equation of the template's identities, in file order. The 2021 variant form is
        used when `present_rows` (row keys, or cell keys) includes the variant row."""
        if variant_printed is None:
            variant_printed = self.variant_printed(template, present_rows)
        for ident in self.identities:
            s = ident.section
            over_axis, side_axis = ("column", "row") if ident.scope == "column" else ("row", "column")
            over = self._terms(template, s, ident.over, variant_printed, over_axis)
            lhs = self._terms(template, s, ident.lhs, variant_printed, side_axis)
            rhs = self._terms(template, s, ident.rhs, variant_printed, side_axis)
            for x in over:
                if ident.scope == "column":
                    yield Equation(ident.name, None, x, [(s, r, x) for r in lhs], [(s, r, x) for r in rhs])
                else:
                    yield Equation(ident.name, x, None, [(s, x, c) for c in lhs], [(s, x, c) for c in rhs])

    def identity(self, name: str) -> Identity:
        for i in self.identities:
            if i.name == name:
                return i
        raise KeyError(name)


# ---------------------------------------------------------------- judging equations on cells


def term_value(status: str, value) -> float | None:
    """A term's number under the contract's rule: a value; 0 for blank and nil; None for missing."""
    if status == "value":
        return value
    if status in ("blank", "nil"):
        return 0
    return None


def evaluate(equation: Equation, cells: Mapping[Key, object]) -> Verdict | None:
    """The equation on one report's cells (objects with .status and .value, by key), or None when
    it is not evaluated: a term is missing, or absent from the report's cells."""
    left = right = 0
    for side, keys in ((0, equation.lhs), (1, equation.rhs)):
        for k in keys:
            c = cells.get(k)
            if c is None:
                return None
            v = term_value(c.status, c.value)
            if v is None:
                return None
            if side == 0:
                left += v
            else:
                right += v
    return Verdict(equation, left, right)


# ---------------------------------------------------------------- the warehouse table


def structure_rows(structure: Structure | None = None) -> list[dict]:
    """The rows of the warehouse table `template_identity_terms`, one per term per equation.

    Columns (TERM_COLUMNS): template, identity, section, scope ('column'|'row'), row_key (the
    equation's row, scope row) or null, col_key (its column, scope column) or null, side
    ('lhs'|'rhs'), term_row_key, term_col_key, form ('any' | 'split' | 'variant': see FORMS; a
    report's equations are those of form 'any' plus 'variant' where it prints the 2021 variant
    row, else plus 'split')."""
    s = structure or load_structure()
    out: list[dict] = []
    for template in sorted({c.template for c in s._catalog.cells}):
        forms: dict[bool, dict[tuple, Equation]] = {}
        for printed in ((False, True) if s.variant(template) else (False,)):
            forms[printed] = {(e.identity, e.row_key, e.col_key, tuple(e.lhs), tuple(e.rhs)): e
                              for e in s.identity_equations(template, variant_printed=printed)}
        split = forms[False]
        variant = forms.get(True, split)
        ordered = list(split) + [k for k in variant if k not in split]
        for k in ordered:
            form = "any" if (k in split and k in variant) else ("split" if k in split else "variant")
            e = split.get(k) or variant[k]
            ident = s.identity(e.identity)
            for side, keys in (("lhs", e.lhs), ("rhs", e.rhs)):
                for (section, row, col) in keys:
                    out.append({
                        "template": template, "identity": e.identity, "section": section,
                        "scope": ident.scope, "row_key": e.row_key, "col_key": e.col_key, "side": side,
                        "term_row_key": row, "term_col_key": col, "form": form,
                    })
    return out


# ---------------------------------------------------------------- loading and validation


def _fail(path: Path, message: str) -> ConfigError:
    return ConfigError(f"{path}: {message}")


def read_structure(path: Path, catalog=None) -> Structure:
    """Load and validate one structure file against the catalog; ConfigError naming the file."""
    import yaml

    if catalog is None:
        from gknb.catalog import load_catalog

        catalog = load_catalog()
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise _fail(path, "must be a mapping with groups, variants and identities")
    unknown = set(raw) - {"groups", "variants", "identities"}
    if unknown:
        raise _fail(path, f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    templates = sorted({c.template for c in catalog.cells})
    cat_rows = {(t, s): {c.row_key for c in catalog.cells if c.template == t and c.section == s}
                for t in templates for s in (2, 3, 4)}
    cat_cols = {(t, s): {c.col_key for c in catalog.cells if c.template == t and c.section == s}
                for t in templates for s in (2, 3, 4)}

    # groups
    raw_groups = raw.get("groups")
    if not isinstance(raw_groups, dict) or not raw_groups:
        raise _fail(path, "`groups` must be a non-empty mapping")
    specs: dict[str, dict] = {}
    for name, g in raw_groups.items():
        where = f"group {name!r}"
        if not isinstance(g, dict):
            raise _fail(path, f"{where}: must be a mapping with section, axis, keys")
        extra = set(g) - {"section", "axis", "keys"}
        if extra:
            raise _fail(path, f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        if g.get("section") not in (2, 3, 4):
            raise _fail(path, f"{where}: section must be 2, 3 or 4, not {g.get('section')!r}")
        if g.get("axis") not in AXES:
            raise _fail(path, f"{where}: axis must be row or column, not {g.get('axis')!r}")
        keys = g.get("keys")
        if isinstance(keys, list):
            per = {t: keys for t in templates}
        elif isinstance(keys, dict):
            per = {str(t): v for t, v in keys.items()}
            if set(per) != set(templates):
                raise _fail(path, f"{where}: keys per template must name exactly {', '.join(templates)}")
        else:
            raise _fail(path, f"{where}: keys must be a list, or one list per template")
        for t, ks in per.items():
            if not isinstance(ks, list) or not ks or not all(isinstance(k, str) and k for k in ks):
                raise _fail(path, f"{where}: keys of {t} must be a non-empty list of names")
        specs[str(name)] = {"section": g["section"], "axis": g["axis"], "keys": per}

    resolved: dict[tuple[str, str], tuple[str, ...]] = {}

    def resolve(name: str, template: str, stack: tuple[str, ...]) -> tuple[str, ...]:
        if (name, template) in resolved:
            return resolved[(name, template)]
        if name in stack:
            raise _fail(path, f"group {name!r} includes itself ({' → '.join(stack + (name,))})")
        spec = specs[name]
        out: list[str] = []
        for k in spec["keys"][template]:
            if k.startswith("$"):
                ref = k[1:]
                if ref not in specs:
                    raise _fail(path, f"group {name!r}: unknown group {k!r}")
                if (specs[ref]["section"], specs[ref]["axis"]) != (spec["section"], spec["axis"]):
                    raise _fail(path, f"group {name!r}: {k} is of another section or axis")
                out.extend(resolve(ref, template, stack + (name,)))
            else:
                known = (cat_rows if spec["axis"] == "row" else cat_cols)[(template, spec["section"])]
                if k not in known:
                    raise _fail(path, f"group {name!r}: {spec['axis']} {k!r} is not in section "
                                      f"{spec['section']} of the {template} template (template_cells.csv)")
                out.append(k)
        if len(set(out)) != len(out):
            raise _fail(path, f"group {name!r}: a key is listed twice in {template}")
        resolved[(name, template)] = tuple(out)
        return resolved[(name, template)]

    groups = {}
    for name, spec in specs.items():
        groups[name] = Group(name, spec["section"], spec["axis"],
                             {t: resolve(name, t, ()) for t in templates})

    # variants
    raw_variants = raw.get("variants") or {}
    if not isinstance(raw_variants, dict):
        raise _fail(path, "`variants` must be a mapping of template → variant")
    variants: dict[str, Variant] = {}
    for t, v in raw_variants.items():
        t = str(t)
        where = f"variant of {t}"
        if t not in templates:
            raise _fail(path, f"{where}: unknown template")
        if not isinstance(v, dict) or set(v) != {"section", "row", "replaces"}:
            raise _fail(path, f"{where}: must have exactly section, row and replaces")
        section, row, replaces = v["section"], v["row"], v["replaces"]
        roles = {c.role for c in catalog.cells if c.template == t and c.section == section and c.row_key == row}
        if roles != {"variant"}:
            raise _fail(path, f"{where}: row {row!r} is not a `variant` row of section {section} "
                              f"in template_cells.csv")
        if not isinstance(replaces, list) or not replaces \
                or any(r not in cat_rows.get((t, section), ()) for r in replaces):
            raise _fail(path, f"{where}: replaces must list rows of section {section} of the {t} template")
        variants[t] = Variant(t, section, row, tuple(replaces))
    declared = {(v.template, v.section, v.row) for v in variants.values()}
    for c in catalog.cells:
        if c.role == "variant" and (c.template, c.section, c.row_key) not in declared:
            raise _fail(path, f"template_cells.csv names the variant row {c.row_key!r} of {c.template}, "
                              f"which `variants` does not declare")

    # identities
    raw_ids = raw.get("identities")
    if not isinstance(raw_ids, list) or not raw_ids:
        raise _fail(path, "`identities` must be a non-empty list")
    identities: list[Identity] = []
    for i, d in enumerate(raw_ids):
        where = f"identity #{i + 1}"
        if not isinstance(d, dict):
            raise _fail(path, f"{where}: must be a mapping")
        name = d.get("name")
        where = f"identity {name!r}" if name else where
        extra = set(d) - {"name", "section", "scope", "over", "lhs", "rhs", "says"}
        if extra:
            raise _fail(path, f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        if not isinstance(name, str) or not name:
            raise _fail(path, f"{where}: needs a name")
        if any(x.name == name for x in identities):
            raise _fail(path, f"{where}: named twice")
        section, scope = d.get("section"), d.get("scope")
        if section not in (2, 3, 4):
            raise _fail(path, f"{where}: section must be 2, 3 or 4")
        if scope not in SCOPES:
            raise _fail(path, f"{where}: scope must be column or row, not {scope!r}")
        parts = {}
        for part in ("over", "lhs", "rhs"):
            terms = d.get(part)
            if not isinstance(terms, list) or not terms or not all(isinstance(x, str) and x for x in terms):
                raise _fail(path, f"{where}: {part} must be a non-empty list of keys or $groups")
            # `over` ranges over columns in scope column, rows in scope row; the sides the other axis
            axis = ("column" if scope == "column" else "row") if part == "over" else \
                ("row" if scope == "column" else "column")
            for t in templates:
                for x in terms:
                    if x.startswith("$"):
                        g = groups.get(x[1:])
                        if g is None:
                            raise _fail(path, f"{where}: {part}: unknown group {x!r}")
                        if (g.section, g.axis) != (section, axis):
                            raise _fail(path, f"{where}: {part}: {x} must be a {axis} group of section {section}")
                    else:
                        known = (cat_rows if axis == "row" else cat_cols)[(t, section)]
                        if x not in known:
                            raise _fail(path, f"{where}: {part}: {axis} {x!r} is not in section {section} "
                                              f"of the {t} template (template_cells.csv)")
            parts[part] = tuple(terms)
        identities.append(Identity(name, section, scope, parts["over"], parts["lhs"], parts["rhs"],
                                   str(d.get("says") or "")))
    for required in ("outcomes", "applicants", "request_columns", "request_rows", "proceedings",
                     "review_results", "review_columns"):
        # the groups code asks for by name (matcher, web text, generator)
        if required not in groups:
            raise _fail(path, f"group {required!r} is missing (the extractors use it)")
    return Structure(groups, variants, tuple(identities), catalog)


@lru_cache(maxsize=1)
def load_structure() -> Structure:
    """The structure of schemas/template_structure.yaml, validated once per process."""
    from gknb.paths import SCHEMAS_DIR

    return read_structure(SCHEMAS_DIR / STRUCTURE_FILE)


def structure_path() -> Path:
    from gknb.paths import SCHEMAS_DIR

    return SCHEMAS_DIR / STRUCTURE_FILE
