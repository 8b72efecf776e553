"""Creates a container in Azurite (if needed) and uploads a blob, with the Azure Blob
SDK and Azurite's well-known development account.
Usage: azurite_put.py BLOB_ENDPOINT CONTAINER BLOB FILE"""
import sys

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

endpoint, container, blob, path = sys.argv[1:5]
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
service = BlobServiceClient(account_url=endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})
try:
    service.create_container(container)
except ResourceExistsError:
    pass
with open(path, "rb") as f:
    service.get_blob_client(container, blob).upload_blob(f, overwrite=True)
print(f"uploaded {container}/{blob}")
