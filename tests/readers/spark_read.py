"""Read a local lake with Spark (local mode, partition discovery), as an analyst would.

Usage: python spark_read.py LAKE_PARENT README_SNIPPET.py [ENRICHED_LAKE_PARENT]
Runs the README's Spark snippet in LAKE_PARENT first (it must work as written), then prints,
per table, the Spark types, the article ids and a pruned count, as JSON; with a third
argument, the types, row counts and keys of the enrich stage's tables of that lake. One JVM
for all of it.
"""

import contextlib
import io
import json
import os
import sys

os.chdir(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as file:
    snippet = file.read()
shown = io.StringIO()
with contextlib.redirect_stdout(shown):
    exec(compile(snippet, "README.md", "exec"), {})

from pyspark.sql import SparkSession  # noqa: E402 - after the snippet, which builds the session

spark = SparkSession.builder.getOrCreate()
found = {"snippet_output": shown.getvalue()}
for table in ("articles", "quarantine"):
    frame = spark.read.parquet(f"lake/{table}")
    found[table] = {
        "types": {field.name: field.dataType.simpleString() for field in frame.schema},
        "ids": sorted(row.article_id for row in frame.select("article_id").collect()),
        "sham_today": frame.where("source = 'sham-today'").count(),
    }
# The enrich stage's tables, when the lake has them (argument 3: the lake that does).
if len(sys.argv) > 3:
    enriched = os.path.abspath(sys.argv[3])  # the JVM keeps the directory it started in
    for table, key in (("stories", "story_id"), ("mentions", "entity_id"),
                       ("watchlist_matches", "watchlist_id")):
        frame = spark.read.parquet(f"{enriched}/lake/{table}")
        found[table] = {
            "types": {field.name: field.dataType.simpleString() for field in frame.schema},
            "rows": frame.count(),
            "keys": sorted({row[key] for row in frame.select(key).collect()}),
        }
spark.stop()
print(json.dumps(found))
