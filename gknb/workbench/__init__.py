"""The auditors' workbench (issue 10.2): `gknb dashboard --serve`, a read-only web application
over the warehouse. See gknb/workbench/app.py for the pages and gknb/workbench/query.py for how it
stays fast at national scale."""

from __future__ import annotations


def create_app(db, **kwargs):
    from gknb.workbench.app import create_app as _create

    return _create(db, **kwargs)


def serve(db, **kwargs) -> None:
    from gknb.workbench.app import serve as _serve

    _serve(db, **kwargs)


__all__ = ["create_app", "serve"]
