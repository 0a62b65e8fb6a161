"""The lake: the only package that speaks to S3 or the filesystem.

- :mod:`~rasid.storage.stores`: the stores (a directory, an S3 bucket) and S3's errors
- :mod:`~rasid.storage.layout`: where each file lives (pure path functions)
- :mod:`~rasid.storage.parquet`, :mod:`~rasid.storage.warc`: the codecs (bytes <-> records)
- :mod:`~rasid.storage.staging`: a run's files staged, checked against other runs, published
- :mod:`~rasid.storage.commit`, :mod:`~rasid.storage.checkpoint`: the numbered commit log and
  the checkpoints folded from it
- :mod:`~rasid.storage.lake`: the commit protocol and the readers of committed data
"""

from rasid.storage.lake import Lake, open_lake
from rasid.storage.layout import MANIFESTS, STAGING, partition_path, staged_key
from rasid.storage.stores import (
    LocalStore,
    S3Store,
    StorageError,
    Store,
    StoredObject,
    TransientStorageError,
)

__all__ = [
    "MANIFESTS",
    "STAGING",
    "Lake",
    "LocalStore",
    "S3Store",
    "StorageError",
    "Store",
    "StoredObject",
    "TransientStorageError",
    "open_lake",
    "partition_path",
    "staged_key",
]
