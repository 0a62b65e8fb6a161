"""rasid (راصد, "the observer"): media monitoring for Arabic news sites.

The package holds the logic as plain functions and small classes; it never imports Prefect.
The Prefect flows that wire it together live in ``flows/`` (installed as ``rasid_flows``).
"""

__version__ = "0.1.0"
USER_AGENT = f"rasid/{__version__} (+https://github.com/rasid-observer/rasid; media monitoring)"
