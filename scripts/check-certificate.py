#!/usr/bin/env python3
"""Verifies a JoinIn contribution certificate with an independent JOSE library (joserfc), against
the JWKS the server publishes, and prints what it certifies.

usage: check-certificate.py JWKS_FILE CERTIFICATE_JSON
(CERTIFICATE_JSON: the answer of GET /v1/ecard/service-requests/{id}/certificate, with `jws`)
Exits 1 when the signature or the header is wrong, 0 with a note when joserfc is not installed
(set JOININ_TOUR_REQUIRE_JOSE to make that an error).
"""
import json
import os
import sys
import warnings

try:
    from joserfc import jws
    from joserfc.jwk import KeySet
except ImportError:
    if os.environ.get("JOININ_TOUR_REQUIRE_JOSE"):
        print("check-certificate: joserfc is not installed (pip install joserfc)")
        sys.exit(1)
    print("check-certificate: skipped: the Python package joserfc is not installed")
    sys.exit(0)

# The platform signs with "EdDSA" (widest verifier support); joserfc warns it is deprecated by RFC 9864.
warnings.filterwarnings("ignore", message=".*EdDSA.*")

jwks_path, certificate_path = sys.argv[1:3]
keys = KeySet.import_key_set(json.load(open(jwks_path)))
token = json.load(open(certificate_path))["jws"]
try:
    verified = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
except Exception as error:  # noqa: BLE001 - any failure is a verification failure
    print(f"check-certificate: NOT VALID: {error}")
    sys.exit(1)
header = verified.protected
if header.get("typ") != "joinin-contribution-certificate+jwt":
    print(f"check-certificate: NOT VALID: typ is {header.get('typ')!r}")
    sys.exit(1)
claims = json.loads(verified.payload)
months = [m["month"] for m in claims.get("months", [])]
print(f"check-certificate: valid (joserfc, kid {header.get('kid')}): {claims['type']} for {claims['name']} "
      f"({claims['sub']}), months {', '.join(months)}, employer {claims['total_employer_fen'] / 100:.2f} CNY, "
      f"employee {claims['total_employee_fen'] / 100:.2f} CNY")
