"""How every test site's pages are rendered: autoescaping Jinja2 templates (a title can never
become markup), undefined names fail, and block tags leave no blank lines behind. The demo
outlets use it with the package's templates, the hostile test site with its own."""

from __future__ import annotations

from email.utils import format_datetime

from jinja2 import BaseLoader, Environment, StrictUndefined


def environment(loader: BaseLoader) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rfc2822"] = format_datetime  # feeds' dates
    return env
