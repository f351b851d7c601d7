"""Secrets by reference: an environment variable or a Prefect Secret block, never the file."""

from __future__ import annotations

import os


class SecretMissingError(RuntimeError):
    """A secret the configuration refers to cannot be found."""


def read_secret(env_name: str, block_name: str, what: str, keys: tuple[str, str]) -> str:
    """Return a secret from the named environment variable, else from the Prefect Secret block."""
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    if block_name:
        from prefect.blocks.system import Secret

        try:
            value = Secret.load(block_name).get()  # type: ignore[union-attr]
        except (ValueError, RuntimeError) as exc:
            raise SecretMissingError(
                f"The Prefect Secret block '{block_name}' ({keys[1]}) for the {what} could not be "
                f"loaded: {type(exc).__name__}. Create it with 'prefect block create secret' or "
                "fix the name in samen.toml."
            ) from None
        return str(value)
    raise SecretMissingError(
        f"The {what} is not set: put it in the environment variable "
        f"'{env_name or '(none configured)'}' ({keys[0]}) or name a Prefect Secret block in "
        f"{keys[1]} in samen.toml."
    )
