"""What the news is saying: stories across outlets, mentions of places and people, watchlists.

Every module here is pure (records in, records out): no I/O but reading the package's own
data files, no Prefect. The pipeline's enrich stage (rasid.pipeline) feeds them the checked
articles of a batch and the lake's open stories; the storage layer writes what they return.
"""
