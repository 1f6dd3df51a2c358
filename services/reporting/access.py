"""Who reads which figures: the calling terminal's roles and its jurisdiction subtree (the county model's
``in_scope``, the same rule intake applies to matters).

- supervisor, auditor and admin read every figure and drill down to every matter in their unit's subtree: a
  township's station its township and its villages, the county bureau (and a county department) the county, the
  city bureau everything.  A request without a place reads the terminal's whole scope.
- handler and registrar read only their own unit's figures and matters (``unit`` = their unit, the default).
- anything else is outside the terminal's scope: 404, as if it did not exist, for statistics, drill-down, exports
  and the summary alike.
"""
from __future__ import annotations

import dataclasses

from reporting.stats import Request
from xinfang.county import County
from xinfang.problems import Problem
from xinfang.terminals import Terminal

READ_SCOPE = frozenset({"supervisor", "auditor", "admin"})


def outside() -> Problem:
    return Problem(404, "scope", "不在本终端的辖区或权限范围内", "outside this terminal's jurisdiction or role")


def restrict(county: County, terminal: Terminal, wanted: Request) -> Request:
    """The request narrowed to what the terminal may read; 404 for a place or unit outside it (the request is
    checked against the county file first, so an unknown code is still 422)."""
    try:
        home = county.unit(terminal.unit_id)
    except KeyError:
        raise outside() from None  # a terminal of a unit this county file does not know
    if not terminal.roles & READ_SCOPE:
        if wanted.jurisdiction is not None or wanted.unit not in (None, terminal.unit_id):
            raise outside()
        return dataclasses.replace(wanted, unit=terminal.unit_id)
    if wanted.jurisdiction is not None and not county.in_scope(terminal.unit_id, wanted.jurisdiction):
        raise outside()
    if wanted.unit is not None and not county.in_scope(terminal.unit_id, county.unit(wanted.unit).jurisdiction):
        raise outside()
    if wanted.jurisdiction is None and wanted.unit is None and not county.in_scope(terminal.unit_id, county.code):
        return dataclasses.replace(wanted, jurisdiction=home.jurisdiction)
    return wanted


def worklist_scope(county: County, terminal: Terminal, jurisdiction: str | None) -> tuple[list[str] | None, str | None]:
    """What of the city's worklist a terminal reads: (the jurisdiction codes, None for all; the holding unit, None
    for any). Supervisors, auditors and admins read their unit's subtree (or a place in it), other roles only the
    matters their own unit holds; a place outside, or a unit this tree does not know, is 404."""
    try:
        home = county.unit(terminal.unit_id)
    except KeyError:
        raise outside() from None
    top = jurisdiction or home.jurisdiction
    if not county.in_scope(terminal.unit_id, top):
        raise outside()
    codes = None if top == county.code else [top, *(j.code for j in county.descendants(top))]
    return codes, None if terminal.roles & READ_SCOPE else terminal.unit_id
