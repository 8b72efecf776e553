"""gcplocal (PyPI) with what real GCP does and gcplocal does not, for driftmgr's tests.

Usage: gcp_emulator.py PORT [--page-size-cap N] [--regions a,b] [--metadata-email E]

gcplocal serves Compute instances, networks, subnetworks, firewalls and disks,
Resource Manager projects, and paginates with maxResults/pageToken. Each gap this
harness fills, as real GCP behaves:

- aggregatedList for instances, disks, subnetworks, addresses and routers (items
  keyed by `zones/<z>` or `regions/<r>`, an empty scope carrying the
  NO_RESULTS_ON_PAGE warning, paginated across scopes);
- addresses, routers and routes (insert, get, list, delete), and regions.list;
- inserts keep every field of the request body (gcplocal keeps only some: subnet
  secondary ranges and instance descriptions were dropped), and an instance inserted
  with an initializeParams boot disk gets that disk created, named after it, as
  Compute does;
- authentication: gcplocal accepts any request. Here Compute and Resource Manager
  calls need a bearer token: a self-signed service-account JWT (RS256) verified with a
  key registered at /_harness/service-accounts, or a token this harness issued (STS
  token exchange at /v1/token, IAM Credentials generateAccessToken, the metadata
  server's token, which needs the `Metadata-Flavor: Google` header). STS checks the
  subject token's `aud` and `sub` claims against /_harness/workload-pools (not its
  signature: that is the cluster's issuer, which real STS fetches the keys of);
- a page-size cap (real Compute caps maxResults at 500), so tests can force pages;
- faults: /_harness/faults makes the next N calls matching a path pattern fail with
  a status, as a failing or throttling API would;
- /_harness/calls lists every call with the principal that made it;
  /_harness/set merges fields into a stored resource (a change made behind
  Terraform's back, by whatever API method real GCP would use).
"""

import base64
import json
import re
import secrets
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from flask import jsonify, request
from gcplocal.server import create_app
from gcplocal.state import StateStore

PREFIX = "/compute/v1/projects/"
AGGREGATED = {
    "instances": "zones",
    "disks": "zones",
    "subnetworks": "regions",
    "addresses": "regions",
    "routers": "regions",
}
REGIONAL_NEW = ("addresses", "routers")  # collections gcplocal lacks, stored here
GLOBAL_NEW = ("routes",)


def option(name, default):
    args = sys.argv[2:]
    return args[args.index(name) + 1] if name in args else default


PORT = int(sys.argv[1])
PAGE_CAP = int(option("--page-size-cap", "500"))
REGIONS = option("--regions", "us-central1,us-east1,europe-west1").split(",")
METADATA_EMAIL = option("--metadata-email", "operator@gcplocal-project.iam.gserviceaccount.com")

state = StateStore()
app = create_app(state)
lock = threading.Lock()
keys = {}  # client_email -> public key
pools = {}  # audience -> {"subjects": [...], "impersonate": [...]}
issued = {}  # token -> principal
faults = []  # {"pattern", "status", "count"}
calls = []


def error(status, message, reason="FAILED"):
    body = {"error": {"code": status, "message": message, "status": reason,
                      "errors": [{"message": message, "reason": reason.lower()}]}}
    return jsonify(body), status


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def issue(principal, prefix):
    token = f"{prefix}-{secrets.token_hex(12)}"
    with lock:
        issued[token] = principal
    return token


def principal_of(token):
    """Who a bearer token belongs to, or None when it is not valid here."""
    with lock:
        if token in issued:
            return issued[token]
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = json.loads(b64decode(parts[0])), json.loads(b64decode(parts[1]))
        key = keys.get(claims.get("iss"))
        if key is None or header.get("alg") != "RS256" or claims.get("sub") != claims.get("iss"):
            return None
        key.verify(b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        if claims.get("exp", 0) < time.time():
            return None
        return claims["iss"]
    except Exception:  # noqa: BLE001 - any malformed or badly signed token is refused
        return None


def now_rfc3339(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


@app.before_request
def harness():
    path = request.path
    if path.startswith("/_harness/"):
        return control(path[len("/_harness/"):])
    for fault in faults:
        if fault["count"] > 0 and re.search(fault["pattern"], path):
            fault["count"] -= 1
            calls.append({"method": request.method, "path": path, "principal": None, "fault": fault["status"]})
            return error(fault["status"], "injected by the test", fault.get("reason", "UNAVAILABLE"))
    if path.startswith("/computeMetadata/"):
        return metadata(path)
    if path == "/v1/token" and request.method == "POST":
        return sts()
    found = re.fullmatch(r"/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken", path)
    if found and request.method == "POST":
        return generate_access_token(found.group(1))
    if path.startswith("/compute/") or re.match(r"/v1/projects/[^/]+$", path):
        auth = request.headers.get("Authorization", "")
        principal = principal_of(auth[7:]) if auth.startswith("Bearer ") else None
        calls.append({"method": request.method, "path": path, "query": request.query_string.decode(),
                      "principal": principal})
        if principal is None:
            return error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        if path.startswith(PREFIX):
            return compute(path[len(PREFIX):].split("/"))
    return None


def control(what):
    body = request.get_json(silent=True) or {}
    if what == "service-accounts":
        keys[body["email"]] = serialization.load_pem_public_key(body["public_key_pem"].encode())
        return jsonify({})
    if what == "workload-pools":
        pools[body["audience"]] = {"subjects": body["subjects"], "impersonate": body.get("impersonate", [])}
        return jsonify({})
    if what == "faults":
        faults.append({"pattern": body["pattern"], "status": body["status"], "count": body.get("count", 1),
                       "reason": body.get("reason", "UNAVAILABLE")})
        return jsonify({})
    if what == "calls":
        if request.method == "DELETE":
            calls.clear()
        return jsonify(calls)
    if what == "set":
        stored = state.get("compute", body["project"], body["collection"], body["name"])
        if stored is None:
            return error(404, "no such resource", "NOT_FOUND")
        stored.update(body["fields"])
        for field in body.get("remove", []):
            stored.pop(field, None)
        state.put("compute", body["project"], body["collection"], body["name"], stored)
        return jsonify(stored)
    if what == "reset":
        state.clear()
        calls.clear()
        faults.clear()
        return jsonify({})
    return error(404, f"no harness control {what}", "NOT_FOUND")


def metadata(path):
    if request.headers.get("Metadata-Flavor") != "Google":
        return error(403, "Missing Metadata-Flavor: Google header", "FORBIDDEN")
    base = "/computeMetadata/v1/instance/service-accounts/default"
    if path in (f"{base}/token",):
        return jsonify({"access_token": issue(METADATA_EMAIL, "mds"), "expires_in": 3600, "token_type": "Bearer"})
    if path == f"{base}/email":
        return METADATA_EMAIL, 200, {"Content-Type": "application/text", "Metadata-Flavor": "Google"}
    if path == "/computeMetadata/v1/universe/universe-domain":
        return "googleapis.com", 200, {"Content-Type": "application/text", "Metadata-Flavor": "Google"}
    if path == "/computeMetadata/v1/project/project-id":
        return "gcplocal-project", 200, {"Content-Type": "application/text", "Metadata-Flavor": "Google"}
    return error(404, f"no metadata at {path}", "NOT_FOUND")


def sts():
    form = request.form
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
        return error(400, "unsupported grant_type", "INVALID_ARGUMENT")
    audience = form.get("audience", "")
    pool = pools.get(audience)
    try:
        claims = json.loads(b64decode(form.get("subject_token", "").split(".")[1]))
    except Exception:  # noqa: BLE001
        return error(400, "the subject token is not a JWT", "INVALID_ARGUMENT")
    token_audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if pool is None or audience not in token_audiences or claims.get("sub") not in pool["subjects"]:
        return error(403, "The caller does not have permission", "PERMISSION_DENIED")
    principal = f"principal://{audience[2:]}/subject/{claims['sub']}"
    token = issue(principal, "fed")
    return jsonify({"access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer", "expires_in": 3600})


def generate_access_token(email):
    auth = request.headers.get("Authorization", "")
    principal = principal_of(auth[7:]) if auth.startswith("Bearer ") else None
    calls.append({"method": "POST", "path": request.path, "principal": principal})
    allowed = any(principal and principal.endswith("/subject/" + subject) and email in pool["impersonate"]
                  for pool in pools.values() for subject in pool["subjects"])
    if not allowed:
        return error(403, "Permission 'iam.serviceAccounts.getAccessToken' denied", "PERMISSION_DENIED")
    return jsonify({"accessToken": issue(email, "sa"), "expireTime": now_rfc3339(3600)})


def self_link(path):
    return f"{request.host_url.rstrip('/')}{PREFIX}{path}"


def paginate(items):
    size = min(request.args.get("maxResults", type=int, default=500), PAGE_CAP)
    start = request.args.get("pageToken", type=int, default=0)
    page = items[start:start + size]
    more = start + size < len(items)
    return page, (str(start + size) if more else None)


def compute(parts):
    """Routes gcplocal lacks or handles with less fidelity; None lets gcplocal answer."""
    project, rest = parts[0], parts[1:]
    method = request.method
    if rest == ["regions"] and method == "GET":
        items = [{"kind": "compute#region", "name": r, "status": "UP"} for r in REGIONS]
        page, token = paginate(items)
        return jsonify({"kind": "compute#regionList", "items": page, **({"nextPageToken": token} if token else {})})
    if len(rest) == 2 and rest[0] == "aggregated" and rest[1] in AGGREGATED and method == "GET":
        return aggregated(project, rest[1])
    global_path = rest[:1] == ["global"] and len(rest) in (2, 3)
    if global_path or (rest[:1] in (["zones"], ["regions"]) and len(rest) in (3, 4)):
        if global_path:
            scope, collection, name = None, rest[1], (rest[2] if len(rest) == 3 else None)
        else:
            scope, collection, name = rest[1], rest[2], (rest[3] if len(rest) == 4 else None)
        if method == "POST" and name is None:
            return insert(project, rest[0], scope, collection)
        if collection in REGIONAL_NEW + GLOBAL_NEW:
            return stored_only(project, scope, collection, name)
    return None


def key(collection, scope):
    return f"{collection}/{scope}" if scope else collection


def listing(project, resource_type, kind):
    items = state.list("compute", project, resource_type)
    page, token = paginate(items)
    return jsonify({"kind": kind, "items": page, **({"nextPageToken": token} if token else {})})


def stored_only(project, scope, collection, name):
    resource_type = key(collection, scope)
    if name is None and request.method == "GET":
        return listing(project, resource_type, f"compute#{collection}List")
    if request.method == "GET":
        item = state.get("compute", project, resource_type, name)
        return jsonify(item) if item else error(404, f"The resource '{name}' was not found", "NOT_FOUND")
    if request.method == "DELETE":
        if not state.delete("compute", project, resource_type, name):
            return error(404, f"The resource '{name}' was not found", "NOT_FOUND")
        return jsonify(state.create_operation("compute", project, operation_type="delete"))
    return None


def insert(project, kind, scope, collection):
    body = request.get_json(silent=True) or {}
    name = body.get("name") or f"{collection}-{secrets.token_hex(4)}"
    path = f"{project}/{kind}/{scope}/{collection}/{name}" if scope else f"{project}/global/{collection}/{name}"
    resource_type = key(collection, scope)
    if state.get("compute", project, resource_type, name):
        return error(409, f"The resource '{name}' already exists", "ALREADY_EXISTS")
    item = {**defaults(project, kind, scope, collection), **body, "name": name, "selfLink": self_link(path),
            "id": str(int.from_bytes(secrets.token_bytes(7), "big")), "creationTimestamp": now_rfc3339()}
    if kind == "zones":
        item["zone"] = self_link(f"{project}/zones/{scope}")
    if kind == "regions":
        item["region"] = self_link(f"{project}/regions/{scope}")
    if collection == "instances":
        create_boot_disk(project, scope, item)
    state.put("compute", project, resource_type, name, item)
    op = state.create_operation("compute", project, zone=scope if kind == "zones" else None,
                                region=scope if kind == "regions" else None, target_link=item["selfLink"])
    return jsonify(op)


def defaults(project, kind, scope, collection):
    """What Compute fills in for fields a request leaves out."""
    if collection == "instances":
        return {"kind": "compute#instance", "status": "RUNNING", "canIpForward": False, "deletionProtection": False,
                "scheduling": {"onHostMaintenance": "MIGRATE", "automaticRestart": True, "preemptible": False},
                "labels": {}, "tags": {"items": []}, "metadata": {"kind": "compute#metadata", "items": []}}
    if collection == "disks":
        return {"kind": "compute#disk", "status": "READY", "sizeGb": "10",
                "type": self_link(f"{project}/zones/{scope}/diskTypes/pd-standard"), "physicalBlockSizeBytes": "4096"}
    if collection == "networks":
        return {"kind": "compute#network", "autoCreateSubnetworks": True, "mtu": 1460,
                "routingConfig": {"routingMode": "REGIONAL"}}
    if collection == "subnetworks":
        return {"kind": "compute#subnetwork", "privateIpGoogleAccess": False, "purpose": "PRIVATE",
                "stackType": "IPV4_ONLY"}
    if collection == "firewalls":
        return {"kind": "compute#firewall", "direction": "INGRESS", "priority": 1000, "disabled": False,
                "network": self_link(f"{project}/global/networks/default")}
    if collection == "addresses":
        return {"kind": "compute#address", "addressType": "EXTERNAL", "networkTier": "PREMIUM", "status": "RESERVED",
                "address": f"34.{secrets.randbelow(255)}.{secrets.randbelow(255)}.{secrets.randbelow(254) + 1}"}
    if collection == "routers":
        return {"kind": "compute#router"}
    if collection == "routes":
        return {"kind": "compute#route", "priority": 1000}
    return {}


def create_boot_disk(project, zone, instance):
    for disk in instance.get("disks", []):
        params = disk.pop("initializeParams", None)
        if not disk.get("boot") or params is None or disk.get("source"):
            continue
        name = params.get("diskName") or instance["name"]
        disk_type = params.get("diskType", "pd-standard").rsplit("/", 1)[-1]
        state.put("compute", project, f"disks/{zone}", name, {
            "kind": "compute#disk", "name": name, "status": "READY", "id": str(secrets.randbits(60)),
            "selfLink": self_link(f"{project}/zones/{zone}/disks/{name}"), "zone": self_link(f"{project}/zones/{zone}"),
            "sizeGb": str(params.get("diskSizeGb", "10")), "sourceImage": params.get("sourceImage", ""),
            "type": self_link(f"{project}/zones/{zone}/diskTypes/{disk_type}"), "labels": params.get("labels", {}),
            "users": [self_link(f"{project}/zones/{zone}/instances/{instance['name']}")],
            "creationTimestamp": now_rfc3339()})
        disk["source"] = self_link(f"{project}/zones/{zone}/disks/{name}")


def aggregated(project, collection):
    scope_kind = AGGREGATED[collection]
    scopes = {}
    prefix = f"compute/{project}/{collection}/"
    with state._lock:  # gcplocal keeps no index by collection; read its store directly
        entries = sorted((k, v) for k, v in state._resources.items() if k.startswith(prefix))
    flat = []
    for stored_key, value in entries:
        scope = stored_key[len(prefix):].split("/")[0]
        item = {k: v for k, v in value.items() if k != "_meta"}
        flat.append((f"{scope_kind}/{scope}", item))
    page, token = paginate(flat)
    for scope, item in page:
        scopes.setdefault(scope, {collection: []})[collection].append(item)
    known = [f"regions/{r}" for r in REGIONS] if scope_kind == "regions" else [f"zones/{r}-a" for r in REGIONS]
    for scope in known:
        scopes.setdefault(scope, {"warning": {"code": "NO_RESULTS_ON_PAGE",
                                              "message": "There are no results for scope on this page."}})
    body = {"kind": f"compute#{collection[:-1]}AggregatedList", "items": scopes}
    if token:
        body["nextPageToken"] = token
    return jsonify(body)


if __name__ == "__main__":
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
