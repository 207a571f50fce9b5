"""``python -m bench.peer.serve PORT``: uvicorn exactly as identity runs it.

Same options as shared/serving.py: one process, uvicorn's automatic loop and
HTTP parser (uvloop and httptools, the same versions), no access log.
"""

import sys

import uvicorn

from bench.peer.app import app


def main() -> None:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
