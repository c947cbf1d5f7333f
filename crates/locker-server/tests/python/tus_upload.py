"""Uploads one file to a Skylark locker with tuspy, a third-party tus 1.0 client from PyPI.

Used by the locker's interoperability test (tests/it/tus_client.rs). The upload URL is kept in a
tuspy URL store, so a second run with the same store resumes the upload from the offset the
server reports instead of starting again.

    tus_upload.py ENDPOINT TOKEN FILE BLAKE3 STORE [--chunk BYTES] [--checksum]

ENDPOINT is the locker's /api/v1/uploads URL and BLAKE3 the file's hash in hex (the locker
requires it in Upload-Metadata). Prints one JSON line: {"done", "start" (the offset this run
began at), "offset" (the offset it reached), "url", "error"}. Exits 0 when the whole file is
uploaded, 3 when a request failed partway.
"""

import argparse
import json
import sys

from tusclient import client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage.filestorage import FileStorage


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("token")
    parser.add_argument("file")
    parser.add_argument("blake3")
    parser.add_argument("store")
    parser.add_argument("--chunk", type=int, default=1024 * 1024)
    parser.add_argument("--checksum", action="store_true")
    args = parser.parse_args()

    tus = client.TusClient(args.endpoint, headers={"Authorization": f"Bearer {args.token}"})
    storage = FileStorage(args.store)
    report = {"done": False, "start": None, "offset": None, "url": None, "error": None}
    try:
        uploader = tus.uploader(
            args.file,
            chunk_size=args.chunk,
            metadata={"filename": args.file.rsplit("/", 1)[-1], "blake3": args.blake3},
            store_url=True,
            url_storage=storage,
            upload_checksum=args.checksum,
            retries=0,
        )
        report["start"] = uploader.offset
        uploader.upload()
        report["done"] = uploader.offset == uploader.get_file_size()
        report["offset"] = uploader.offset
        report["url"] = uploader.url
    except (TusCommunicationError, TusUploadFailed) as error:
        if "uploader" in locals():
            report["offset"] = uploader.offset
            report["url"] = uploader.url
        report["error"] = f"{type(error).__name__}: {error}"
    finally:
        storage.close()
    print(json.dumps(report))
    return 0 if report["done"] else 3


if __name__ == "__main__":
    sys.exit(main())
