"""A paging proxy in front of moto. moto answers Describe* calls with everything in
one response whatever MaxResults says; AWS returns at most MaxResults items and a
NextToken. This proxy asks moto for everything and hands it out page by page, as AWS
does, so a client's pagination is exercised past the first page.

DescribeInstances pages count instances (a reservation is never split), as AWS's do.
GET /_calls answers {action: count} for the paged actions.

Usage: paging_proxy.py UPSTREAM_URL [--repeat ACTION] [--endless ACTION]
  --repeat ACTION   ACTION's pages always carry the same NextToken (a looping API)
  --endless ACTION  ACTION's pages are empty and always carry a new NextToken
Prints the proxy's URL on its first line, then serves on 127.0.0.1 until killed.
"""
import json
import sys
import threading
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"  # the endless answer's; real answers carry their own
PAGED = {
    "DescribeInstances": "reservationSet",
    "DescribeVolumes": "volumeSet",
    "DescribeVpcs": "vpcSet",
    "DescribeSubnets": "subnetSet",
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeSecurityGroupRules": "securityGroupRuleSet",
    "DescribeInternetGateways": "internetGatewaySet",
    "DescribeNatGateways": "natGatewaySet",
    "DescribeRouteTables": "routeTableSet",
    "DescribeNetworkAcls": "networkAclSet",
}

upstream = sys.argv[1]
repeat = sys.argv[sys.argv.index("--repeat") + 1] if "--repeat" in sys.argv else None
endless = sys.argv[sys.argv.index("--endless") + 1] if "--endless" in sys.argv else None
calls = {}
lock = threading.Lock()


def weight(item, ns):
    """How many resources an item counts for: a reservation counts its instances."""
    instances = item.find(f"{{{ns}}}instancesSet")
    return len(list(instances)) if instances is not None else 1


def page(body, set_name, offset, limit, action):
    root = ET.fromstring(body)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    ET.register_namespace("", ns)
    for stale in root.findall(f"{{{ns}}}nextToken"):
        root.remove(stale)
    container = root.find(f"{{{ns}}}{set_name}")
    items = list(container) if container is not None else []
    chosen, total, end = [], 0, offset
    for item in items[offset:]:
        if chosen and total + weight(item, ns) > limit:
            break
        chosen.append(item)
        total += weight(item, ns)
        end += 1
    if container is not None:
        for item in items:
            container.remove(item)
        container.extend(chosen)
    token = None
    if action == repeat:
        token = "page-1"
    elif end < len(items):
        token = f"page-{end}"
    if token:
        ET.SubElement(root, f"{{{ns}}}nextToken").text = token
    return ET.tostring(root, xml_declaration=True, encoding="utf-8")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/_calls":
            with lock:
                body = json.dumps(calls).encode()
            self.reply(200, body, "application/json")
        else:
            self.forward(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.forward(self.rfile.read(length))

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode())) if body else {}
        action = form.get("Action")
        if action in PAGED:
            with lock:
                calls[action] = calls.get(action, 0) + 1
            if action == endless:
                root = ET.Element(f"{action}Response", xmlns=NS)
                ET.SubElement(root, "requestId").text = "endless"
                ET.SubElement(root, PAGED[action])
                ET.SubElement(root, "nextToken").text = f"page-{calls[action]}"
                self.reply(200, ET.tostring(root, xml_declaration=True, encoding="utf-8"), "text/xml")
                return
            limit = int(form.pop("MaxResults", "1000000"))
            token = form.pop("NextToken", "page-0")
            offset = int(token.split("-")[1])
            body = urllib.parse.urlencode(form).encode()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(upstream + self.path, data=body or None, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request) as response:
                status, data, content_type = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, data, content_type = error.code, error.read(), error.headers.get("Content-Type", "")
        if action in PAGED and status == 200:
            data = page(data, PAGED[action], offset, limit, action)
        self.reply(status, data, content_type or "text/xml")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
