"""Template rendering: a context dict in, HTML text out.

Rendering uses jinja2, autoescaped, with packaged templates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def environment():
    """Return the jinja2 environment of the report templates.

    Templates come from package data, with autoescape on and strict undefined.
    """
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("tmstarget.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> str:
    """Render one of the packaged templates (``participant.html``, ``cohort.html``) to text.

    Every value is HTML-escaped unless the template says otherwise (it never does for data), so
    labels such as ``<script>`` appear as text. Pure: no files are read except the templates, none
    are written.
    """
    from .. import NOTICE, __version__

    return (
        environment()
        .get_template(template)
        .render({"notice": NOTICE, "report_version": __version__, **context})
    )
