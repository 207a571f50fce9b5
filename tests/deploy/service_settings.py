"""What each service reads from its environment, found from its own code.

The settings classes grow while the services do, so nothing here lists
variables: a service reads every ``BaseSettings`` class that its source
refers to (its own settings module, the shared ones it names, and the
telemetry settings that ``setup_telemetry`` builds), and a class reads one
variable per field, named as pydantic-settings names it.
"""

import ast
import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from opentelemetry.instrumentation._semconv import OTEL_SEMCONV_STABILITY_OPT_IN
from opentelemetry.sdk import environment_variables as otel_sdk_variables
from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "notifier", "audit")
SHARED_SETTINGS_MODULES = ("shared.settings", "shared.telemetry")

# Read by the OpenTelemetry SDK and instrumentations themselves (CONTRACT.md:
# the standard OTEL_* variables are honoured), not by a settings class.
OTEL_STANDARD_VARIABLES = frozenset(
    name for name in dir(otel_sdk_variables) if name.startswith("OTEL_")
) | {OTEL_SEMCONV_STABILITY_OPT_IN}


@dataclass(frozen=True)
class Setting:
    """One field of a settings class and the variable names that set it."""

    owner: str
    field: str
    env_names: tuple[str, ...]
    info: FieldInfo

    @property
    def required(self) -> bool:
        return self.info.is_required()

    @property
    def secret(self) -> bool:
        return "SecretStr" in repr(self.info.annotation)


def _env_names(cls: type[BaseSettings], name: str, info: FieldInfo) -> tuple[str, ...]:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        names = [choice for choice in alias.choices if isinstance(choice, str)]
    elif isinstance(alias, str):
        names = [alias]
    elif info.alias:
        names = [info.alias]
    else:
        names = [str(cls.model_config.get("env_prefix", "")) + name]
    if not cls.model_config.get("case_sensitive", False):
        names = [n.upper() for n in names]
    return tuple(names)


def settings_of(cls: type[BaseSettings]) -> list[Setting]:
    return [
        Setting(cls.__name__, name, _env_names(cls, name, info), info)
        for name, info in cls.model_fields.items()
    ]


def _source_names(package_dir: Path) -> set[str]:
    """Every name the package's modules import or mention."""
    names: set[str] = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                names.update(alias.name for alias in node.names)
    return names


def _settings_classes_in(module_name: str) -> list[type[BaseSettings]]:
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseSettings)
        and value.__module__ == module_name
    ]


@cache
def settings_classes(service: str) -> tuple[type[BaseSettings], ...]:
    """The settings classes the service builds from its environment."""
    package_dir = ROOT / "services" / service / "src" / service
    used = _source_names(package_dir)
    candidates = [
        cls
        for module in (*SHARED_SETTINGS_MODULES, f"{service}.settings")
        for cls in _settings_classes_in(module)
    ]
    classes = [cls for cls in candidates if cls.__name__ in used]
    if "setup_telemetry" in used:
        telemetry = importlib.import_module("shared.telemetry")
        classes.append(telemetry.TelemetrySettings)
    return tuple(dict.fromkeys(classes))


@cache
def service_settings_class(service: str) -> type[BaseSettings]:
    """The service's own class: ``<Service>Settings`` in ``<service>.settings``."""
    module = importlib.import_module(f"{service}.settings")
    cls = getattr(module, f"{service.capitalize()}Settings")
    assert inspect.isclass(cls) and issubclass(cls, BaseSettings)
    found: type[BaseSettings] = cls
    return found


@cache
def settings_by_env(service: str) -> dict[str, list[Setting]]:
    """Variable name -> the settings it sets, over every class the service reads."""
    table: dict[str, list[Setting]] = {}
    for cls in settings_classes(service):
        for setting in settings_of(cls):
            for env in setting.env_names:
                table.setdefault(env, []).append(setting)
    return table


def required_settings(service: str) -> list[Setting]:
    return [
        setting
        for cls in settings_classes(service)
        for setting in settings_of(cls)
        if setting.required
    ]


def port_setting(service: str) -> Setting:
    """The field ``port`` of the service's own settings class."""
    cls = service_settings_class(service)
    (setting,) = [s for s in settings_of(cls) if s.field == "port"]
    return setting


def console_script(service: str) -> tuple[str, str]:
    """(name, target) of the service's only console script."""
    import tomllib

    manifest = ROOT / "services" / service / "pyproject.toml"
    project = tomllib.loads(manifest.read_text())["project"]
    ((name, target),) = project["scripts"].items()
    return name, target


def resolve(target: str) -> object:
    """The object ``module:attribute`` names."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
