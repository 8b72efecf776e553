"""The GCP replay corpus: every Compute state the real Google provider wrote (the driftctl
fixtures), recreated through the Compute API of the emulator (gcp_emulator.py) with
their recorded values, scanned with `driftmgr scan --provider gcp`.

For each state: replay it and require it in sync (exit code 0, every resource in
sync). Then, once per perturbation, replay it afresh, change one thing behind the
state's back (as the API method real GCP offers for it would) and require exactly
the drift written below: kind, id, path, expected and actual value, severity. The
expectations are written by hand from the Compute API's behaviour, not computed by
driftmgr's code.

Usage: gcp_replay.py DRIFTMGR_BINARY EMULATOR_URL FIXTURES_DIR
Prints one line per check and a closing `N passed, M failed`; exits 1 when any failed.
Or: gcp_replay.py replay EMULATOR_URL STATE_FILE KEY_FILE, which only recreates the
state's resources in the emulator (calling as the key's service account).
"""
import json
import os
import subprocess
import sys
import tempfile

from gcp_keys import register_service_account
import requests

# The driftctl fixtures (Google provider 3.x), then the synthetic state for what they
# lack (networks, routes, provider 5+ labels), under FIXTURES_DIR.
FIXTURES = [
    "driftctl/test/google_compute_firewall/terraform.tfstate",
    "driftctl/test/google_compute_instance/terraform.tfstate",
    "driftctl/test/google_compute_subnetwork/terraform.tfstate",
    "driftctl/test/google_compute_disk/terraform.tfstate",
    "driftctl/test/google_compute_address/terraform.tfstate",
    "driftctl/test/google_compute_router/terraform.tfstate",
    "replay/google-network.tfstate",
]


def present(value):
    return value not in (None, "", [], {})


def api_body(type_, a):
    """The insert request for a state resource, from its recorded attributes."""
    if type_ == "google_compute_firewall":
        rules = lambda blocks: [{"IPProtocol": b["protocol"], **({"ports": b["ports"]} if b.get("ports") else {})}
                                for b in blocks or []]
        body = {"network": a["network"], "direction": a["direction"], "priority": a["priority"],
                "disabled": a["disabled"], "description": a["description"], "allowed": rules(a["allow"]),
                "denied": rules(a["deny"]), "sourceRanges": a["source_ranges"], "sourceTags": a["source_tags"],
                "targetTags": a["target_tags"], "destinationRanges": a["destination_ranges"],
                "sourceServiceAccounts": a["source_service_accounts"],
                "targetServiceAccounts": a["target_service_accounts"]}
    elif type_ == "google_compute_instance":
        nics = [{"name": n["name"], "network": n["network"], "subnetwork": n["subnetwork"],
                 "networkIP": n["network_ip"],
                 "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "natIP": c.get("nat_ip")} for c in n["access_config"]]}
                for n in a["network_interface"]]
        scheduling = a["scheduling"][0]
        body = {"machineType": f"zones/{a['zone']}/machineTypes/{a['machine_type']}",
                "description": a["description"], "canIpForward": a["can_ip_forward"],
                "deletionProtection": a["deletion_protection"], "labels": a["labels"] or {},
                "tags": {"items": a["tags"] or []},
                "metadata": {"items": [{"key": k, "value": v} for k, v in (a["metadata"] or {}).items()]},
                "networkInterfaces": nics,
                "serviceAccounts": [{"email": s["email"], "scopes": s["scopes"]} for s in a["service_account"]],
                "scheduling": {"automaticRestart": scheduling["automatic_restart"],
                               "onHostMaintenance": scheduling["on_host_maintenance"],
                               "preemptible": scheduling["preemptible"]},
                "disks": [{"boot": True, "source": d["source"]} for d in a["boot_disk"]]}
    elif type_ == "google_compute_subnetwork":
        body = {"network": a["network"], "ipCidrRange": a["ip_cidr_range"], "description": a["description"],
                "privateIpGoogleAccess": a["private_ip_google_access"], "gatewayAddress": a["gateway_address"],
                "secondaryIpRanges": [{"rangeName": r["range_name"], "ipCidrRange": r["ip_cidr_range"]}
                                      for r in a["secondary_ip_range"]]}
    elif type_ == "google_compute_disk":
        # Provider 5+ sends `terraform_labels` (labels plus its default labels).
        body = {"sizeGb": str(a["size"]), "type": f"zones/{a['zone']}/diskTypes/{a['type']}",
                "sourceImage": a["image"], "labels": a.get("terraform_labels") or a["labels"] or {},
                "description": a["description"]}
    elif type_ == "google_compute_network":
        body = {"autoCreateSubnetworks": a["auto_create_subnetworks"], "mtu": a["mtu"],
                "routingConfig": {"routingMode": a["routing_mode"]}, "description": a["description"]}
    elif type_ == "google_compute_route":
        body = {"network": a["network"], "destRange": a["dest_range"], "priority": a["priority"],
                "tags": a["tags"], "nextHopGateway": a["next_hop_gateway"], "nextHopIp": a["next_hop_ip"],
                "nextHopInstance": a["next_hop_instance"], "nextHopVpnTunnel": a["next_hop_vpn_tunnel"],
                "nextHopIlb": a["next_hop_ilb"], "description": a["description"]}
    elif type_ == "google_compute_address":
        body = {"address": a["address"], "addressType": a["address_type"], "networkTier": a["network_tier"],
                "description": a["description"]}
    elif type_ == "google_compute_router":
        body = {"network": a["network"], "description": a["description"]}
        if a["bgp"]:
            bgp = a["bgp"][0]
            body["bgp"] = {"asn": bgp["asn"], "advertiseMode": bgp["advertise_mode"],
                           "advertisedGroups": bgp["advertised_groups"],
                           "advertisedIpRanges": [{"range": r["range"], "description": r["description"]}
                                                  for r in bgp["advertised_ip_ranges"]]}
    else:
        raise ValueError(f"no replay for {type_}")
    return {"name": a["name"], **{k: v for k, v in body.items() if present(v) or isinstance(v, bool)}}


def managed(state):
    for resource in state["resources"]:
        if resource.get("mode", "managed") == "managed":
            for instance in resource["instances"]:
                yield resource["type"], instance["attributes"]


def replay(emulator, state, reset=True):
    if reset:
        requests.post(f"{emulator}/_harness/reset").raise_for_status()
    for type_, a in managed(state):
        parts = a["id"].split("/")  # projects/P/(zones|regions)/S/collection/name or projects/P/global/...
        url = f"{emulator}/compute/v1/{'/'.join(parts[:-1])}"
        answer = requests.post(url, json=api_body(type_, a), headers=bearer())
        if answer.status_code != 200:
            raise RuntimeError(f"replaying {a['id']}: HTTP {answer.status_code} {answer.text}")


def bearer():
    return {"Authorization": f"Bearer {TOKEN}"}


def scan(driftmgr, emulator, state_path, state):
    types = sorted({t for t, _ in managed(state)})
    projects = sorted({a["id"].split("/")[1] for _, a in managed(state)})
    args = [driftmgr, "scan", "--provider", "gcp", "--project", ",".join(projects), "--region", "us-central1",
            "--endpoint", emulator, "--state", state_path, "--resource-type", ",".join(types), "-o", "json"]
    env = dict(os.environ, GOOGLE_APPLICATION_CREDENTIALS=KEY_FILE)
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = None
    return done.returncode, report, done.stderr


def change(collection, fields):
    """Merge `fields` into the stored object of a resource (by id), as an API call would."""
    def apply(emulator, rid):
        parts = rid.split("/")
        project, scope = parts[1], (parts[3] if parts[2] != "global" else None)
        key = f"{collection}/{scope}" if scope else collection
        answer = requests.post(f"{emulator}/_harness/set",
                               json={"project": project, "collection": key, "name": parts[-1], "fields": fields})
        answer.raise_for_status()
    return apply


def delete(emulator, rid):
    requests.delete(f"{emulator}/compute/v1/{rid}", headers=bearer()).raise_for_status()


WORLD_SSH = [{"IPProtocol": "tcp", "ports": ["80", "8080", "1000-2000"]}, {"IPProtocol": "icmp"},
             {"IPProtocol": "tcp", "ports": ["22"]}]

# (fixture, name, action, [(path, expected, actual)] or "missing" or [], severity[, target id])
# The target is the state's first resource unless named.
NETWORK = "replay/google-network.tfstate"
ROUTE = "projects/driftmgr-test/global/routes/egress"
DATA_DISK = "projects/driftmgr-test/zones/us-central1-a/disks/data"
PERTURBATIONS = [
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "opened to the internet", change("firewalls", {"sourceRanges": ["0.0.0.0/0"]}),
     [("source_ranges", "[]", '["0.0.0.0/0"]')], "Critical"),
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "ssh allowed", change("firewalls", {"allowed": WORLD_SSH}),
     [("allow", None, '"tcp 22"')], "High"),
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "priority lowered", change("firewalls", {"priority": 900}),
     [("priority", "1000", "900")], "High"),
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "disabled", change("firewalls", {"disabled": True}),
     [("disabled", "false", "true")], "High"),
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "target tag added", change("firewalls", {"targetTags": ["db"]}),
     [("target_tags", "[]", '["db"]')], "High"),
    ("driftctl/test/google_compute_firewall/terraform.tfstate", "deleted", delete, "missing", "High"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "resized", change("instances", {"machineType": "zones/us-central1-a/machineTypes/e2-standard-4"}),
     [("machine_type", '"e2-medium"', '"e2-standard-4"')], "Medium"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "labelled", change("instances", {"labels": {"env": "dev"}}),
     [("labels.env", None, '"dev"')], "Low"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "labelled by GCP", change("instances", {"labels": {"goog-ops-agent-policy": "v2"}}),
     [], None),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "ssh key added", change("instances", {"metadata": {"items": [{"key": "ssh-keys", "value": "eve:ssh-ed25519 AAAA"}]}}),
     [("metadata", None, '"ssh-keys"')], "High"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "network tag added", change("instances", {"tags": {"items": ["web"]}}),
     [("tags", "[]", '["web"]')], "Medium"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "service account attached", change("instances", {"serviceAccounts": [{"email": "x@p.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]}),
     [("service_account", None, '"x@p.iam.gserviceaccount.com https://www.googleapis.com/auth/cloud-platform"')], "High"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "made preemptible", change("instances", {"scheduling": {"automaticRestart": False, "onHostMaintenance": "TERMINATE", "preemptible": True}}),
     [("scheduling", '"preemptible=false on_host_maintenance=MIGRATE automatic_restart=true"', None),
      ("scheduling", None, '"preemptible=true on_host_maintenance=TERMINATE automatic_restart=false"')], "Medium"),
    ("driftctl/test/google_compute_instance/terraform.tfstate", "deletion protection on", change("instances", {"deletionProtection": True}),
     [("deletion_protection", "false", "true")], "Medium"),
    ("driftctl/test/google_compute_subnetwork/terraform.tfstate", "range widened", change("subnetworks", {"ipCidrRange": "10.2.0.0/15"}),
     [("ip_cidr_range", '"10.2.0.0/16"', '"10.2.0.0/15"')], "Medium"),
    ("driftctl/test/google_compute_subnetwork/terraform.tfstate", "secondary range added", change("subnetworks", {"secondaryIpRanges": [
        {"rangeName": "tf-test-secondary-range-update1", "ipCidrRange": "192.168.10.0/24"},
        {"rangeName": "pods", "ipCidrRange": "10.8.0.0/14"}]}),
     [("secondary_ip_range", None, '"pods 10.8.0.0/14"')], "Medium"),
    ("driftctl/test/google_compute_subnetwork/terraform.tfstate", "private Google access on", change("subnetworks", {"privateIpGoogleAccess": True}),
     [("private_ip_google_access", "false", "true")], "Medium"),
    ("driftctl/test/google_compute_disk/terraform.tfstate", "grown", change("disks", {"sizeGb": "50"}), [("size", "10", "50")], "Medium"),
    ("driftctl/test/google_compute_disk/terraform.tfstate", "type changed", change("disks", {"type": "zones/us-central1-a/diskTypes/pd-ssd"}),
     [("type", '"pd-standard"', '"pd-ssd"')], "Medium"),
    ("driftctl/test/google_compute_disk/terraform.tfstate", "labelled", change("disks", {"labels": {"team": "a"}}), [("labels.team", None, '"a"')], "Low"),
    ("driftctl/test/google_compute_address/terraform.tfstate", "tier changed", change("addresses", {"networkTier": "STANDARD"}),
     [("network_tier", '"PREMIUM"', '"STANDARD"')], "Medium"),
    ("driftctl/test/google_compute_address/terraform.tfstate", "released", delete, "missing", "High"),
    ("driftctl/test/google_compute_router/terraform.tfstate", "asn changed", change("routers", {"bgp": {"asn": 64600, "advertiseMode": "CUSTOM",
        "advertisedGroups": ["ALL_SUBNETS"], "advertisedIpRanges": [{"range": "1.2.3.4"}, {"range": "6.7.0.0/16"}]}}),
     [("bgp", '"asn=64514 mode=CUSTOM groups=ALL_SUBNETS ranges=1.2.3.4,6.7.0.0/16"', None),
      ("bgp", None, '"asn=64600 mode=CUSTOM groups=ALL_SUBNETS ranges=1.2.3.4,6.7.0.0/16"')], "Medium"),
    (NETWORK, "routing made global", change("networks", {"routingConfig": {"routingMode": "GLOBAL"}}),
     [("routing_mode", '"REGIONAL"', '"GLOBAL"')], "Medium"),
    (NETWORK, "MTU raised", change("networks", {"mtu": 8896}), [("mtu", "1460", "8896")], "Medium"),
    (NETWORK, "route priority changed", change("routes", {"priority": 1000}), [("priority", "900", "1000")],
     "Medium", ROUTE),
    (NETWORK, "route sent through an instance", change("routes", {"nextHopGateway": "", "nextHopInstance":
        "https://www.googleapis.com/compute/v1/projects/driftmgr-test/zones/us-central1-a/instances/proxy"}),
     [("next_hop_gateway", '"projects/driftmgr-test/global/gateways/default-internet-gateway"', None),
      ("next_hop_instance", None, '"projects/driftmgr-test/zones/us-central1-a/instances/proxy"')], "High", ROUTE),
    (NETWORK, "route untagged", change("routes", {"tags": []}), [("tags", '["egress"]', "[]")], "Medium", ROUTE),
    (NETWORK, "route deleted", delete, "missing", "High", ROUTE),
    (NETWORK, "provider default label removed", change("disks", {"labels": {"team": "data",
        "goog-terraform-provisioned": "true"}}), [("labels.managed-by", '"terraform"', None)], "Low", DATA_DISK),
    (NETWORK, "attribution label removed by GCP", change("disks", {"labels": {"team": "data", "managed-by": "terraform"}}),
     [], None, DATA_DISK),
]


def check_perturbation(driftmgr, emulator, path, state, action, expected, severity, target=None):
    replay(emulator, state)
    target = target or next(a["id"] for _, a in managed(state))
    action(emulator, target)
    code, report, stderr = scan(driftmgr, emulator, path, state)
    if report is None:
        return f"no report (exit {code}): {stderr.strip()[-300:]}"
    items = report["items"]
    if expected == []:
        return None if code == 0 and not items else f"expected no drift, got exit {code}: {items}"
    if code != 2 or len(items) != 1:
        return f"expected one drift item and exit 2, got exit {code}: {items}"
    item = items[0]
    if item["id"] != target:
        return f"drift on {item['id']}, expected {target}"
    if expected == "missing":
        ok = item["kind"] == "Missing" and item["severity"] == severity
        return None if ok else f"expected Missing/{severity}, got {item['kind']}/{item['severity']}"
    # The JSON report decodes each side; the expectations are written as JSON text.
    want = [(p, None if e is None else json.loads(e), None if a is None else json.loads(a)) for p, e, a in expected]
    got = [(c["path"], c.get("expected"), c.get("actual")) for c in item.get("changes", [])]
    if item["kind"] != "Modified" or sorted(got, key=json.dumps) != sorted(want, key=json.dumps):
        return f"expected Modified {expected}, got {item['kind']} {got}"
    if item["severity"] != severity:
        return f"expected severity {severity}, got {item['severity']}"
    return None


def main():
    global KEY_FILE, TOKEN
    if sys.argv[1] == "replay":
        emulator, state_file, KEY_FILE = sys.argv[2:5]
        TOKEN = register_service_account(emulator, KEY_FILE)
        with open(state_file) as f:
            replay(emulator, json.load(f), reset=False)
        return
    driftmgr, emulator, fixtures = sys.argv[1:4]
    work = tempfile.mkdtemp(prefix="driftmgr-gcp-replay-")
    KEY_FILE = os.path.join(work, "key.json")
    TOKEN = register_service_account(emulator, KEY_FILE, create=True)
    passed = failed = 0

    def record(name, problem):
        nonlocal passed, failed
        if problem is None:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {problem}")

    try:
        for fixture in FIXTURES:
            path = os.path.join(fixtures, fixture)
            with open(path) as f:
                state = json.load(f)
            replay(emulator, state)
            code, report, stderr = scan(driftmgr, emulator, path, state)
            count = sum(1 for _ in managed(state))
            if report is None:
                record(f"{fixture} in sync", f"no report (exit {code}): {stderr.strip()[-300:]}")
            else:
                summary = report["summary"]
                ok = code == 0 and not report["items"] and summary["inSync"] == count
                record(f"{fixture} in sync", None if ok else f"exit {code}, {summary}, items {report['items']}")
            for name_fixture, name, *check in PERTURBATIONS:
                if name_fixture == fixture:
                    record(f"{fixture} {name}", check_perturbation(driftmgr, emulator, path, state, *check))
    finally:
        for leftover in os.listdir(work):
            os.remove(os.path.join(work, leftover))
        os.rmdir(work)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
