#!/usr/bin/env python3
"""The billing contract, implemented in Python from its JSON Schema alone (standard library only).

The schema is what `goplugin contract build/examples/typed/contract.js` prints (a copy is in
examples/typed/billing.schema.json). This is a stdio plugin: one process per call. It reads one JSON
request from stdin, answers one JSend object on stdout, logs to stderr (docs/protocol.md, "stdio").

A typed command is an ordinary exec: the command is the contract's command name, the payload bytes are
the UTF-8 JSON of the payload, and the answer bytes are the UTF-8 JSON {"success": ...} or
{"error": ...} (docs/protocol.md, "Typed commands"). A payload that does not match the schema is a bad
request whose message names the JSON path.

Try: echo '{"type":"exec","command":"health","payload":"6e756c6c"}' | python3 typed_billing.py
"""
import json
import sys

# The customers this plugin knows and the most each may be charged at once.
LIMITS = {"alice": 100, "bob": 1000}


class BadRequest(Exception):
    """The payload does not match the command's payload schema: answered as a bad request."""


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_object(value, required, optional, path="$"):
    """Checks a JSON object against "required", "properties" and "additionalProperties": false."""
    if not isinstance(value, dict):
        raise BadRequest(f"at {path}: expected an object, got {json.dumps(value)}")
    for key in required:
        if key not in value:
            raise BadRequest(f"at {path}.{key}: is missing")
    for key in value:
        if key not in required and key not in optional:
            raise BadRequest(f"at {path}.{key}: is unexpected")


def charge(payload):
    # payload schema: {customer: string, amount: number > 0, currency?: "EUR" | "USD"}
    check_object(payload, required=("customer", "amount"), optional=("currency",))
    customer, amount = payload["customer"], payload["amount"]
    currency = payload.get("currency", "EUR")
    if not isinstance(customer, str):
        raise BadRequest(f"at $.customer: expected a string, got {json.dumps(customer)}")
    if not is_number(amount) or amount <= 0:
        raise BadRequest(f"at $.amount: expected a positive number, got {json.dumps(amount)}")
    if currency not in ("EUR", "USD"):
        raise BadRequest(f'at $.currency: expected "EUR" or "USD", got {json.dumps(currency)}')
    # error schema: Declined {_tag, reason, limit} | UnknownCustomer {_tag, customer}
    if customer not in LIMITS:
        return {"error": {"_tag": "UnknownCustomer", "customer": customer}}
    limit = LIMITS[customer]
    if amount > limit:
        return {"error": {"_tag": "Declined", "reason": f"{amount} {currency} is over the limit", "limit": limit}}
    # success schema: {id, customer, amount, currency}
    receipt_id = f"r-{customer}-{round(amount * 100)}"
    return {"success": {"id": receipt_id, "customer": customer, "amount": amount, "currency": currency}}


def health(payload):
    # payload schema: null; success schema: {status: "ok", plugin: string}; error schema: never
    if payload is not None:
        raise BadRequest(f"at $: expected null, got {json.dumps(payload)}")
    return {"success": {"status": "ok", "plugin": "py-stdio"}}


COMMANDS = {"charge": charge, "health": health}


def answer(ok, value):
    """Writes one JSend object on stdout and returns the exit status."""
    body = {"status": "success", "data": {"response": value}} if ok else {"status": "error", "message": value}
    sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0 if ok else 1


def run(request):
    if request.get("type") == "ping":
        return answer(True, "pong")
    command, payload_hex = request.get("command"), request.get("payload")
    if request.get("type") != "exec" or not isinstance(command, str) or not isinstance(payload_hex, str):
        return answer(False, 'expected {"type":"ping"} or {"type":"exec","command":…,"payload":"<hex>"}')
    handler = COMMANDS.get(command)
    if handler is None:
        return answer(False, f'command "{command}" failed: unknown command; this plugin knows: {", ".join(COMMANDS)}')
    try:
        payload = json.loads(bytes.fromhex(payload_hex).decode("utf-8"))
    except ValueError as e:  # bad hex, bad UTF-8 or bad JSON
        return answer(False, f'command "{command}" failed: the payload is not hex of UTF-8 JSON ({e})')
    try:
        envelope = handler(payload)
    except BadRequest as e:
        return answer(False, f'command "{command}" failed: the payload does not match the contract, {e}')
    sys.stderr.write(f"INFO {command} answered {next(iter(envelope))}\n")
    return answer(True, json.dumps(envelope, separators=(",", ":")).encode("utf-8").hex())


def main():
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except ValueError as e:
        return answer(False, f"the request on stdin is not JSON ({e})")
    if not isinstance(request, dict):
        return answer(False, "the request on stdin is not a JSON object")
    return run(request)


if __name__ == "__main__":
    sys.exit(main())
