"""GED fixtures: both storages (a local folder, and S3 on a real HTTP server), files, an owner.

The S3 server is moto in server mode on 127.0.0.1: boto3 reaches it over HTTP exactly as it
reaches AWS. Until the other apps' models exist, documents belong to a user record (any model
with an integer primary key can own documents).
"""

import io
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from pypdf import PdfWriter

from tests.factories import UserFactory

S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_options(endpoint: str, bucket: str) -> dict:
    # The production settings' options (gerance/settings.py), pointed at the test server.
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        **S3_CREDENTIALS,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "client_config": Config(
            connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1}
        ),
    }


class LocalStore:
    kind = "local"

    def __init__(self, root: Path):
        self.root = root

    def keys(self) -> list[str]:
        return sorted(
            str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file()
        )

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


class S3Store:
    kind = "s3"

    def __init__(self, endpoint: str, bucket: str):
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=S3_CREDENTIALS["access_key"],
            aws_secret_access_key=S3_CREDENTIALS["secret_key"],
            region_name=S3_CREDENTIALS["region_name"],
        )

    def keys(self) -> list[str]:
        answer = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()


def use_local_storage(settings, root: Path) -> LocalStore:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return LocalStore(root)


def use_s3_storage(settings, endpoint: str) -> S3Store:
    store = S3Store(endpoint, f"ged-{uuid.uuid4().hex[:12]}")
    store.client.create_bucket(Bucket=store.bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(endpoint, store.bucket),
        },
    }
    return store


@pytest.fixture(autouse=True)
def local_store(settings, tmp_path):
    """Every GED test writes into its own folder, never into var/media."""
    root = tmp_path / "media"
    root.mkdir()
    return use_local_storage(settings, root)


@pytest.fixture(params=["local", "s3"])
def store(request, settings, local_store):
    """Run the test once on the local folder and once on the S3 server."""
    if request.param == "local":
        return local_store
    return use_s3_storage(settings, request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def owner(db):
    """A record that documents are attached to."""
    return UserFactory(username="client-dupont", first_name="Jeanne", last_name="Dupont")


@pytest.fixture
def other_owner(db):
    return UserFactory(username="client-leroy", first_name="Luc", last_name="Leroy")


# --- Files -----------------------------------------------------------------------------------


def pdf_bytes(pages: int = 1, *, text: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if text:
        writer.add_metadata({"/Title": text})  # varies the bytes, hence the SHA-256
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf_bytes(password: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 64
    + b"\xff\xd9"
)
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64
EMAIL = (
    b"Return-Path: <syndic@example.fr>\r\n"
    b"Received: from mx.example.fr by mail.agence.example; Mon, 3 Jun 2024 09:12:00 +0200\r\n"
    b"From: Syndic <syndic@example.fr>\r\n"
    b"To: gerance@agence.example\r\n"
    b"Subject: =?utf-8?q?Relev=C3=A9_de_charges?=\r\n"
    b"Date: Mon, 3 Jun 2024 09:11:58 +0200\r\n"
    b"Message-ID: <1234@example.fr>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<html><body><p>Bonjour,</p></body></html>\r\n"
)
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(1)</script></svg>\n"
)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    """A file as Django hands it to a view after an upload."""
    return SimpleUploadedFile(name, content, content_type=content_type)
