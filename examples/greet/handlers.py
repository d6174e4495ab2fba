"""Python handlers for greet.asl.json: resources bound by resource or placeholder name."""

from typing import Any

attempts = {"n": 0}


class Busy(Exception):
    pass


def greet(event: dict[str, Any]) -> str:
    attempts["n"] += 1
    if attempts["n"] < 3:
        raise Busy("try again later")  # retried: 30 s, then 60 s — of virtual time
    return f"hello, {event['name']}"


HANDLERS = {"Greeter": greet}  # binds "Resource": "${Greeter}"
