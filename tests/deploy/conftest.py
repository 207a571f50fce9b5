"""Rendered manifests, rendered once per run: kustomize takes a fraction of a second."""

import pytest

from tests.deploy.manifests import K8S, OVERLAYS, Obj, kustomize_build


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    """Overlay name -> the objects ``kubectl kustomize`` renders for it."""
    return {
        overlay: kustomize_build(K8S / "overlays" / overlay) for overlay in OVERLAYS
    }
