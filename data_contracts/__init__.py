"""The ODCS v3 data contracts (*.odcs.yaml), shipped in the package as ``rasid.contracts``."""
