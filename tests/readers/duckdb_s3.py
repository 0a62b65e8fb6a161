"""Read a lake on S3 with DuckDB's own s3:// support (the httpfs extension), as an analyst would.

Usage: python duckdb_s3.py s3://bucket/prefix  (endpoint and keys from the AWS_* variables).
Prints, per table, the column types and the article ids that DuckDB sees, as JSON.
"""

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import duckdb_extension_httpfs

# The extension ships inside the wheel: load it from there instead of downloading it.
wheel = Path(duckdb_extension_httpfs.__path__[0])
extension = next(wheel.glob("extensions/*/httpfs.duckdb_extension"))
db = duckdb.connect(config={"autoinstall_known_extensions": False})
db.execute(f"LOAD '{extension}'")
endpoint = urlsplit(os.environ["AWS_ENDPOINT_URL"])
db.execute(
    "CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, "
    "URL_STYLE 'path', USE_SSL ?)",
    [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
     os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), endpoint.netloc,
     endpoint.scheme == "https"],
)
found = {}
for table in ("articles", "quarantine"):
    relation = db.sql(
        f"SELECT * FROM read_parquet('{sys.argv[1]}/{table}/**/*.parquet', hive_partitioning=true)"
    )
    found[table] = {
        "types": dict(zip(relation.columns, map(str, relation.types), strict=True)),
        "ids": sorted(row[0] for row in relation.select("article_id").fetchall()),
    }
print(json.dumps(found))
