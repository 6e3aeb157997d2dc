"""Every `gknb` command and option is documented in the README (sqlite-utils' rule)."""

import re

import typer.main

from gknb.cli import app

from conftest import REPO


def _commands():
    group = typer.main.get_command(app)
    for name, command in sorted(group.commands.items()):
        options = [opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")]
        yield name, options


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    undocumented = [name for name, _ in _commands() if not re.search(rf"`gknb {name}\b", readme)]
    assert not undocumented, f"commands with no `gknb NAME` in README.md: {undocumented}"


def test_every_option_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [f"{name} {opt}" for name, options in _commands() for opt in options if opt not in readme]
    assert not missing, f"options not mentioned in README.md: {missing}"


def test_every_global_option_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    options = [opt for param in group.params for opt in getattr(param, "opts", []) if opt.startswith("--")]
    assert "--data-dir" in options and "--version" in options
    missing = [opt for opt in options if opt != "--help" and f"`gknb {opt}" not in readme]
    assert not missing, f"global options not documented as `gknb OPTION` in README.md: {missing}"


def test_the_cli_has_the_commands_of_the_issues():
    names = {name for name, _ in _commands()}
    assert {"extract", "ingest", "export", "crawl", "nightly", "serve", "check", "dashboard"} <= names
