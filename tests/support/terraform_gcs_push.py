"""Writes a state file to GCS the way Terraform does: its built-in gcs backend
pointed at fake-gcs-server (`storage_custom_endpoint`, any access token), `state
push`. Terraform names the object PREFIX/default.tfstate.
Usage: terraform_gcs_push.py ENDPOINT BUCKET PREFIX STATE_FILE"""
import sys

from tfpush import push

endpoint, bucket, prefix, state_file = sys.argv[1:5]
push("gcs", {
    "bucket": bucket, "prefix": prefix, "storage_custom_endpoint": f"{endpoint}/storage/v1/", "access_token": "emulator",
}, state_file)
print(f"terraform wrote gs://{bucket}/{prefix}/default.tfstate")
