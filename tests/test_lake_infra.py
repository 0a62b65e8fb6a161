"""The bucket's lifecycle rules and policy in infra/s3 are valid S3 documents and match the
lake's layout (the prefixes the storage layer writes)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3

from rasid.storage import MANIFESTS, STAGING

INFRA = Path(__file__).resolve().parents[1] / "infra" / "s3"
LAKE_PREFIX = "rasid/"  # the README's s3://news-lake/rasid


def test_lifecycle_rules_cover_uploads_staging_and_the_raw_archive(s3_env: dict[str, str]) -> None:
    rules = json.loads((INFRA / "lifecycle.json").read_text())["Rules"]
    by_prefix = {rule["Filter"]["Prefix"]: rule for rule in rules}
    assert by_prefix[""]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert by_prefix[f"{LAKE_PREFIX}{STAGING}/"]["Expiration"]["Days"] >= 2  # > a run's length
    assert by_prefix[f"{LAKE_PREFIX}raw/"]["Expiration"]["Days"] >= 365
    assert not any(p.startswith(f"{LAKE_PREFIX}{t}") for p in by_prefix
                   for t in ("articles", "quarantine", MANIFESTS))  # the tables never expire

    client, bucket = boto3.client("s3"), f"infra-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
    stored = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {rule["ID"] for rule in stored} == {rule["ID"] for rule in rules}


def test_the_policy_protects_commit_records_and_the_archive(s3_env: dict[str, str]) -> None:
    text = (INFRA / "bucket-policy.json").read_text()
    statements = {s["Sid"]: s for s in json.loads(text)["Statement"]}
    protected = statements["CommitRecordsAndTheRawArchiveAreNeverDeletedByHand"]
    assert protected["Effect"] == "Deny"
    assert set(protected["Resource"]) == {
        f"arn:aws:s3:::news-lake/{LAKE_PREFIX}{MANIFESTS}/*",
        f"arn:aws:s3:::news-lake/{LAKE_PREFIX}raw/*",
    }
    readable = statements["AnalystsReadCommittedData"]["Resource"]
    assert not any(STAGING in resource for resource in readable)

    client = boto3.client("s3")
    client.create_bucket(Bucket="news-lake")
    client.put_bucket_policy(Bucket="news-lake", Policy=text)
    assert json.loads(client.get_bucket_policy(Bucket="news-lake")["Policy"]) == json.loads(text)
