"""What a developer needs once the stack is up: where everything is."""

from devstack.settings import JAEGER_UI, StackSettings


def summary_lines(settings: StackSettings) -> list[tuple[str, str]]:
    broker = settings.bootstrap_servers
    if settings.embedded_broker:
        broker += " (embedded Tansu, memory only)"
    return [
        ("identity API docs", f"{settings.identity_url}/docs"),
        ("audit dashboard", f"{settings.audit_url}/dashboard"),
        ("notifier health", f"{settings.notifier_url}/healthz"),
        (
            "dev mailbox",
            f"{settings.mailbox_url}  (SMTP {settings.host}:"
            f"{settings.mailbox_smtp_port})",
        ),
        ("broker", broker),
        ("data", str(settings.data_path)),
        ("telemetry", telemetry_destination(settings)),
    ]


def telemetry_destination(settings: StackSettings) -> str:
    if settings.otel_sdk_disabled:
        return "disabled (OTEL_SDK_DISABLED)"
    if settings.otel_exporter_otlp_endpoint:
        return f"OTLP {settings.otel_exporter_otlp_endpoint}; Jaeger UI {JAEGER_UI}"
    return "console (in each service's output; set OTEL_EXPORTER_OTLP_ENDPOINT)"
