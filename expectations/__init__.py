"""The Great Expectations suites, shipped inside the installed package as ``rasid.expectations``."""
