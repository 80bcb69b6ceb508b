#!/usr/bin/env python3
"""Download real YouTube-8M safely: the official plan, MD5s and mirrors, with resume and retries.

The same command as ``python -m course_lib download`` (the work is in
``course_lib/download/``), for example a 1 % sample of train and validate::

    python data_scripts/download_yt8m.py --partition 2/video/train --partition 2/video/validate --shard 1,100

``--help`` lists the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's course_lib

import course_lib.cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(course_lib.cli.main(["download", *sys.argv[1:]]))
