"""Writes a state file to S3 the way Terraform does: its built-in S3 backend pointed
at moto, `state push`.
Usage: terraform_push.py ENDPOINT BUCKET KEY STATE_FILE"""
import os
import sys

import boto3

from tfpush import push

endpoint, bucket, key, state_file = sys.argv[1:5]
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
push("s3", {
    "bucket": bucket, "key": key, "region": "us-east-1", "endpoints": '{s3="%s"}' % endpoint,
    "use_path_style": "true", "skip_credentials_validation": "true", "skip_requesting_account_id": "true",
    "skip_metadata_api_check": "true", "skip_region_validation": "true",
}, state_file)
# Terraform reports success even when it pushed somewhere else; check the object.
written = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
if b'"terraform_version"' not in written:
    sys.exit(f"s3://{bucket}/{key} is not a state file after the push")
print(f"terraform wrote s3://{bucket}/{key}")
