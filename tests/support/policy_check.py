"""The read-only policy `driftmgr policy --provider aws` prints is enough for a full scan,
and nothing in it is spare: checked in moto with IAM enforcement on.

moto enforces IAM policies once INITIAL_NO_AUTH_ACTION_COUNT requests have been served.
The driver replays two states (EC2 and IAM) while enforcement is still off, creates two
users (one with the printed policy, one with it minus one action), uses up the remaining
unauthenticated requests, then scans as each user:
- with the printed policy: nothing failed or drifted (the two users and their inline
  policies, which no state holds, are the only items), except the services of AWS's
  REST protocols (Lambda, API Gateway, EKS, EFS, Route 53): moto rejects every request
  of theirs made with an IAM user's keys (SignatureDoesNotMatch), whatever the policy.
  A third user allowed everything (`*`) shows which listings moto refuses that way;
  the printed policy must fail on exactly those and nothing else (ELBv2, Logs, RDS,
  ECS, KMS, DynamoDB, ACM and the rest are authorised as AWS does);
- without iam:ListRoles: exit 3 (partial), the role listing denied, named in the report.

Usage: policy_check.py DRIFTMGR_BINARY MOTO_URL FIXTURES_DIR
Prints one line per check; exits 1 when any failed.
"""
import json
import os
import subprocess
import sys
import tempfile

import boto3
import botocore.exceptions

from replay import Replay

STATES = ["replay/network-stack.tfstate", "replay/iam-stack.tfstate"]
# The services moto cannot authorise (see above): their failure makes the scan partial.
UNVERIFIABLE = ("/aws_lambda_", "/aws_api_gateway_", "/aws_apigatewayv2_", "/aws_eks_", "/aws_efs_", "/aws_route53_")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def client(moto, service, keys=("testing", "testing")):
    session = boto3.session.Session(aws_access_key_id=keys[0], aws_secret_access_key=keys[1], region_name="us-east-1")
    return session.client(service, endpoint_url=moto)


def user_with_policy(iam, name, policy):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="driftmgr-read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def use_up_unauthenticated_requests(moto):
    """Calls as the root test keys (no IAM user) until moto starts refusing them."""
    sts = client(moto, "sts")
    for _ in range(5000):
        try:
            sts.get_caller_identity()
        except botocore.exceptions.ClientError:
            return True
    return False


def scan(driftmgr, moto, region, files, keys):
    args = [driftmgr, "scan", "--region", region, "--endpoint", moto, "-o", "json"]
    for file in files:
        args += ["--state", file]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1], AWS_EC2_METADATA_DISABLED="true")
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
    try:
        return done.returncode, json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return done.returncode, None, done.stderr


def main():
    driftmgr, moto, fixtures = sys.argv[1:4]
    printed = subprocess.run([driftmgr, "policy", "--provider", "aws"], capture_output=True, text=True, check=True)
    policy = json.loads(printed.stdout)
    actions = policy["Statement"][0]["Action"]
    failures = []
    with tempfile.TemporaryDirectory(prefix="driftmgr-policy-") as work:
        files, region = [], None
        for index, path in enumerate(STATES):
            with open(os.path.join(fixtures, path)) as f:
                replay = Replay(moto, json.load(f))
            rewritten, context, _ = replay.run()
            region = region or replay.region
            for suffix, content in (("state", rewritten), ("context", context)):
                file = os.path.join(work, f"{index}-{suffix}.tfstate")
                with open(file, "w") as f:
                    json.dump(content, f)
                files.append(file)
        iam = client(moto, "iam")
        full = user_with_policy(iam, "driftmgr-scanner", policy)
        less = dict(policy, Statement=[dict(policy["Statement"][0], Action=[a for a in actions if a != "iam:ListRoles"])])
        short = user_with_policy(iam, "driftmgr-scanner-short", less)
        everything = user_with_policy(iam, "driftmgr-scanner-all", ALLOW_ALL)
        if not use_up_unauthenticated_requests(moto):
            sys.exit("moto never started enforcing IAM: is INITIAL_NO_AUTH_ACTION_COUNT set?")

        _, unrestricted, _ = scan(driftmgr, moto, region, files, everything)
        refused_anyway = sorted(f["scope"] for f in (unrestricted or {}).get("failures") or [])
        code, report, stderr = scan(driftmgr, moto, region, files, full)
        problem = None
        if report is None:
            problem = f"no report (exit {code}): {stderr.strip()[-400:]}"
        else:
            # The scanning users themselves are the only thing no state manages.
            own = {"driftmgr-scanner", "driftmgr-scanner-short", "driftmgr-scanner-all"}
            others = [i for i in report["items"] if i["id"].split(":")[0] not in own]
            failed = sorted(f["scope"] for f in report.get("failures") or [])
            outside = [f for f in failed if not any(u in f for u in UNVERIFIABLE)]
            if code != 3 or failed != refused_anyway or outside or others or report["summary"]["unmanaged"] != 6:
                problem = f"exit {code}, failures {report.get('failures')}, items {json.dumps(report['items'])[:600]}"
        label = f"a full scan under the printed policy ({len(actions)} actions)"
        print(("FAIL " if problem else "ok   ") + label + (f": {problem}" if problem else ""))
        failures += [problem] if problem else []

        code, report, stderr = scan(driftmgr, moto, region, files, short)
        denied = [f for f in (report or {}).get("failures", []) if f["scope"] == "global/aws_iam_role"]
        problem = None
        if code != 3 or len(denied) != 1 or denied[0]["reason"] != "AccessDenied":
            problem = f"exit {code}, failures {(report or {}).get('failures')}, stderr {stderr.strip()[-300:]}"
        label = "without iam:ListRoles the role listing is denied and the scan partial"
        print(("FAIL " if problem else "ok   ") + label + (f": {problem}" if problem else ""))
        failures += [problem] if problem else []
    print(f"{2 - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
