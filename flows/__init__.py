"""Prefect flows: thin wiring over the ``rasid`` package (installed as ``rasid_flows``)."""
