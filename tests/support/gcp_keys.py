"""Service-account keys for the GCP emulator: a fresh RSA key written as a key file in
the shape Google issues, its public half registered with the emulator, and a
self-signed JWT of it for the test's own API calls.

Usage as a program: gcp_keys.py EMULATOR_URL KEY_FILE [EMAIL]
(writes KEY_FILE and registers it; prints nothing).
"""
import base64
import json
import sys
import time

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_keys = {}


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def register_service_account(emulator, key_file, create=False, email="scanner@driftmgr-test.iam.gserviceaccount.com"):
    """Writes (when `create`) and registers the key in `key_file`; returns a bearer JWT."""
    if create or key_file not in _keys:
        try:
            with open(key_file) as f:
                document = json.load(f)
            key = serialization.load_pem_private_key(document["private_key"].encode(), password=None)
        except (FileNotFoundError, KeyError, ValueError):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            document = {
                "type": "service_account",
                "project_id": email.split("@")[1].split(".")[0],
                "private_key_id": "0123456789abcdef",
                "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode(),
                "client_email": email,
                "client_id": "100000000000000000001",
                "token_uri": f"{emulator}/token",
            }
            with open(key_file, "w") as f:
                json.dump(document, f)
        _keys[key_file] = (key, document["client_email"])
    key, email = _keys[key_file]
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    requests.post(f"{emulator}/_harness/service-accounts", json={"email": email, "public_key_pem": public}).raise_for_status()
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"iss": email, "sub": email, "iat": int(time.time()), "exp": int(time.time()) + 3600}).encode())
    signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{_b64(signature)}"


if __name__ == "__main__":
    register_service_account(sys.argv[1], sys.argv[2], create=True,
                             **({"email": sys.argv[3]} if len(sys.argv) > 3 else {}))
