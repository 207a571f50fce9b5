"""Tokens for the notifier travel sealed: only a holder of the key opens them."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.sealing import SealError, TokenSealer, sealer_from_settings
from shared.settings import SealingSettings


def test_a_sealed_token_hides_the_token_and_opens_with_the_key() -> None:
    sealer = TokenSealer([TokenSealer.generate_key()])
    sealed = sealer.seal("raw-token-123")
    assert "raw-token-123" not in sealed
    assert sealer.unseal(sealed) == "raw-token-123"


def test_another_key_or_a_tampered_seal_cannot_open_it() -> None:
    sealed = TokenSealer([TokenSealer.generate_key()]).seal("raw-token-123")
    with pytest.raises(SealError):
        TokenSealer([TokenSealer.generate_key()]).unseal(sealed)
    with pytest.raises(SealError):
        TokenSealer([TokenSealer.generate_key()]).unseal(sealed[:-4] + "AAAA")
    with pytest.raises(SealError):
        TokenSealer([TokenSealer.generate_key()]).unseal("not-a-seal-é")


def test_rotation_seals_with_the_first_key_and_opens_with_any() -> None:
    old, new = TokenSealer.generate_key(), TokenSealer.generate_key()
    sealed_by_old = TokenSealer([old]).seal("t")
    rotated = TokenSealer([new, old])
    assert rotated.unseal(sealed_by_old) == "t"
    assert TokenSealer([new]).unseal(rotated.seal("u")) == "u"


def test_two_processes_starting_together_share_one_key_file(tmp_path: Path) -> None:
    settings = SealingSettings(token_sealing_key_file=tmp_path / "s" / "key")
    first, second = sealer_from_settings(settings), sealer_from_settings(settings)
    assert second.unseal(first.seal("t")) == "t"
    assert (tmp_path / "s" / "key").stat().st_mode & 0o777 == 0o600


def test_keys_from_the_environment_take_precedence(tmp_path: Path) -> None:
    key = TokenSealer.generate_key()
    settings = SealingSettings(
        token_sealing_keys=SecretStr(key.decode()),
        token_sealing_key_file=tmp_path / "unused",
    )
    assert TokenSealer([key]).unseal(sealer_from_settings(settings).seal("t")) == "t"
    assert not (tmp_path / "unused").exists()
