#!/usr/bin/env python3
"""Writes device_vectors.json: device tokens computed independently of the Go
code, from the format in ratelimit/device.go's documentation, so that a change
to the format (which would sign every browser's device out of its allowance)
fails the tests. Run from this directory: python3 make_device_vectors.py"""
import base64, hashlib, hmac, json, struct

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def token(secret, user_id, device_id, issued):
    key = hmac.new(secret, b"gatehouse ratelimit device token v1", hashlib.sha256).digest()
    payload = device_id + struct.pack(">Q", issued)
    mac = hmac.new(key, b"gd1" + payload + user_id.encode(), hashlib.sha256).digest()
    return "gd1." + b64(payload) + "." + b64(mac)

cases = [
    (bytes(range(32)), "u_01jxyz", bytes(16), 1767323045),
    (bytes(range(32)), "u_01jxyz", bytes(range(16, 32)), 1767323045),
    (b"\xff" * 48, "a-rather-longer-user-id-\u00e9", bytes(range(16)), 1800000000),
    (b"gatehouse test secret, 32 bytes!", "1", b"\x80" * 16, 0),
]
out = []
for secret, user_id, device_id, issued in cases:
    out.append({
        "secret": secret.hex(),
        "user_id": user_id,
        "device_id": device_id.hex(),
        "issued_unix": issued,
        "token": token(secret, user_id, device_id, issued),
        "device_id_b64": b64(device_id),
    })
with open("device_vectors.json", "w") as f:
    json.dump(out, f, indent=2, ensure_ascii=False)
    f.write("\n")
