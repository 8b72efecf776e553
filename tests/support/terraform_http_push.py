"""Writes a state file to a Terraform http backend the way Terraform does: its
built-in http backend with basic auth, `state push`.
Usage: terraform_http_push.py ADDRESS USERNAME PASSWORD STATE_FILE"""
import sys

from tfpush import push

address, username, password, state_file = sys.argv[1:5]
push("http", {"address": address, "username": username, "password": password}, state_file)
print(f"terraform wrote {address}")
