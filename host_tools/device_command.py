"""What the commands that talk to a device share: running their coroutine (a link error becomes one
clear Failure line), their --device argument and their --as option."""
import asyncio

import click

from host_tools import connect
from host_tools.failures import Failure
from host_tools.settings import legacy_device_argument


def run(coro, doing):
    """Runs a command's coroutine; DeviceLink/bleak errors become one clear Failure."""
    try:
        return asyncio.run(coro)
    except Failure:
        raise
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        failure = connect.link_failure(exc, doing)
        if failure is None:
            raise
        raise failure from exc


def device_argument(fn):
    return legacy_device_argument(fn)


def role_option(fn):
    return click.option("--as", "role", type=click.Choice(["clinician", "patient"]), default="clinician",
                        show_default=True, help="Which provisioned key to use.")(fn)
