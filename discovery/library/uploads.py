"""Uploaded files between the request that receives them and the task that reads them.

The request writes each file into a folder of its own job under MEDIA_ROOT (which the site and the worker
share, also in Docker); the task reads them from there and removes the folder when it ends, however it ends.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from django.conf import settings

INCOMING = "incoming"
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


def job_folder(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / INCOMING / f"job-{job_id}"


def store(job_id: int, files) -> list[dict]:
    """Write the uploaded `files` into the job's folder; returns [{"name": shown name, "stored": file name}].

    Stored names are numbers plus the original suffix, so that nothing a browser sends as a file name decides
    where on disk a file goes. On any error the folder is removed again and the error raised.
    """
    folder = job_folder(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    try:
        for index, uploaded in enumerate(files):
            name = Path(uploaded.name).name
            suffix = Path(name).suffix
            stored_name = f"{index:04d}{suffix.lower() if _SUFFIX.fullmatch(suffix) else ''}"
            with open(folder / stored_name, "wb") as handle:
                for chunk in uploaded.chunks():
                    handle.write(chunk)
            stored.append({"name": name, "stored": stored_name})
    except BaseException:
        discard(job_id)
        raise
    return stored


def path_of(job_id: int, stored_name: str) -> Path:
    return job_folder(job_id) / Path(stored_name).name


def discard(job_id: int) -> None:
    shutil.rmtree(job_folder(job_id), ignore_errors=True)
