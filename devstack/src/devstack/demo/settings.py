"""Where the demo finds the stack: the same variables ``devstack run`` reads."""

from devstack.settings import JAEGER_UI, StackSettings


class DemoSettings(StackSettings):
    """The stack's ports (``IDENTITY_PORT``, ...) and ``JAEGER_UI_URL``.

    A stack started with other ports in the environment or in ``.env`` is
    found by a demo started with the same ones.
    """

    jaeger_ui_url: str = JAEGER_UI
