#!/usr/bin/env python3
"""Generate independent JOSE and zlib test vectors for the JoinInCore credentials module.

Usage:
    python3 scripts/make-jose-vectors.py > Tests/JoinInCoreTests/JOSEVectors.swift

Needs joserfc (1.6.x) and cryptography. Everything here is produced by code that is not ours
(joserfc for JWK/JWKS/JWS, CPython's zlib for DEFLATE), so the Swift tests can check that our
Foundation-free implementation interoperates byte for byte.

THE KEYS BELOW ARE TEST-ONLY. The Ed25519 seed is the secret key of RFC 8032 section 7.1
"TEST 1", published in the RFC: it must never sign anything real.
"""

import json
import random
import sys
import warnings
import zlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import ECKey, KeySet, OKPKey
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

# joserfc warns that "EdDSA" is deprecated by RFC 9864 in favour of "Ed25519"; the credentials
# deliberately use "EdDSA" (widest verifier support), so silence that one warning.
warnings.filterwarnings("ignore", message=".*EdDSA.*")

# ---------------------------------------------------------------- TEST-ONLY key material
TEST_ONLY_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
# Its public key and the signature of the empty message, as printed in RFC 8032 section 7.1.
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_EMPTY_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
TEST_ONLY_EC_SCALAR = 0x1D1E55EC0DE0F7E57  # a P-256 key, only to show that a JWKS may hold other key types
KID = "test-2026"


def compact_json(obj):
    """The exact bytes our Swift serializer produces: no spaces, insertion order, raw UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(header, payload_bytes, key):
    token = jws.serialize_compact(header, payload_bytes, key, algorithms=["EdDSA"])
    # joserfc serializes the header itself (json.dumps, compact, ensure_ascii=True, insertion
    # order); make sure that is byte-identical to ours, and the payload was taken verbatim.
    h, p, _ = token.split(".")
    assert urlsafe_b64decode(h.encode()) == compact_json(header), "joserfc header bytes differ"
    assert urlsafe_b64decode(p.encode()) == payload_bytes, "joserfc payload bytes differ"
    # And that joserfc itself accepts what it produced.
    jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    return token


signing_key = Ed25519PrivateKey.from_private_bytes(TEST_ONLY_SEED)
assert signing_key.public_key().public_bytes_raw().hex() == RFC8032_PUBLIC
assert signing_key.sign(b"").hex() == RFC8032_EMPTY_SIGNATURE
okp = OKPKey.import_key(signing_key, parameters={"kid": KID, "use": "sig", "alg": "EdDSA"})
ec_key = ECKey.import_key(
    ec.derive_private_key(TEST_ONLY_EC_SCALAR, ec.SECP256R1()),
    parameters={"kid": "test-ec-2026", "use": "sig", "alg": "ES256"},
)
jwks_json = json.dumps(KeySet([ec_key, okp]).as_dict(private=False), separators=(",", ":"))
assert '"d"' not in jwks_json
public_x = okp.as_dict(private=False)["x"]
assert urlsafe_b64decode(public_x.encode()).hex() == RFC8032_PUBLIC

# ---------------------------------------------------------------- permit credential
PERMIT_IAT = 1767225600  # 2026-01-01T00:00:00Z
PERMIT_EXP = 1830297600  # 2028-01-01T00:00:00Z
permit_claims = {
    "iss": "https://permits.joinin.example.cn",
    "sub": "W1100002024000001X",
    "iat": PERMIT_IAT,
    "exp": PERMIT_EXP,
    "surname": "O'BRIEN-MÜLLER",
    "given_names": "Anna \"Annie\" Maria",
    "chinese_name": "安娜",
    "nationality": "IRL",
    "category": "A",
    "employer": {"en": "Example Tech (Shanghai) Co., Ltd. / R&D", "zh": "示例科技（上海）有限公司"},
    "valid_from": "2026-01-01",
    "valid_until": "2027-12-31",
    "card": "623091*********1234",
    "status": {"status_list": {"idx": 1234, "uri": "https://permits.joinin.example.cn/status/1"}},
}
permit_payload = compact_json(permit_claims)
permit_header = {"alg": "EdDSA", "kid": KID, "typ": "joinin-permit+jwt"}
permit_jws = sign(permit_header, permit_payload, okp)

# ---------------------------------------------------------------- status list token
STATUS_CAPACITY = 32768  # tokens, 4096 bytes
STATUS_REVOKED = [0, 7, 8, 1235, 4097, 32767]
status_bytes = bytearray(STATUS_CAPACITY // 8)
for index in STATUS_REVOKED:
    status_bytes[index // 8] |= 1 << (index % 8)  # index 0 is the least significant bit of byte 0
status_bytes = bytes(status_bytes)
STATUS_URI = "https://permits.joinin.example.cn/status/1"
STATUS_IAT = 1767225600
STATUS_EXP = 1767312000  # one day later
STATUS_TTL = 43200
status_lst = urlsafe_b64encode(zlib.compress(status_bytes, 9)).decode()
status_claims = {
    "sub": STATUS_URI,
    "iat": STATUS_IAT,
    "exp": STATUS_EXP,
    "ttl": STATUS_TTL,
    "status_list": {"bits": 1, "lst": status_lst},
}
status_header = {"alg": "EdDSA", "kid": KID, "typ": "statuslist+jwt"}
status_jws = sign(status_header, compact_json(status_claims), okp)

# ---------------------------------------------------------------- zlib vectors
rng = random.Random(2026)
words = ["permit", "card", "employer", "Shanghai", "Beijing", "valid", "revoked", "status", "list",
         "foreign", "talent", "category", "the", "of", "and", "a", "work", "visa", "residence", "投资", "工作"]
text = " ".join(rng.choice(words) for _ in range(700)).encode("utf-8")
random_bytes = bytes(rng.randrange(256) for _ in range(600))
inputs = [
    ("empty", b""),
    ("hello", b"hello, hello, hello JoinIn!"),
    ("text", text),
    ("random", random_bytes),
    ("statuslist4k", status_bytes),
]


def block_type(stream):
    return (stream[2] >> 1) & 3  # BTYPE of the first DEFLATE block


vectors = []
for name, data in inputs:
    for level in (0, 1, 9):
        compressed = zlib.compress(data, level)
        assert zlib.decompress(compressed) == data
        vectors.append((f"{name}-L{level}", level, block_type(compressed), data, compressed))

# Several blocks in one stream: a sync flush ends the first block and adds an empty stored block.
obj = zlib.compressobj(6)
multi = obj.compress(text[:1500]) + obj.flush(zlib.Z_SYNC_FLUSH) + obj.compress(text[1500:]) + obj.flush()
assert zlib.decompress(multi) == text
vectors.append(("text-syncflush-L6", 6, block_type(multi), text, multi))

# Other encoder strategies and a small window (CINFO 1, 512 bytes), still plain zlib streams.
def compress_with(data, level, strategy=zlib.Z_DEFAULT_STRATEGY, wbits=15):
    obj = zlib.compressobj(level, zlib.DEFLATED, wbits, 8, strategy)
    out = obj.compress(data) + obj.flush()
    assert zlib.decompress(out) == data
    return out


for name, data, level, strategy, wbits in [
    ("text-fixed", text, 9, zlib.Z_FIXED, 15),
    ("text-huffmanonly", text, 9, zlib.Z_HUFFMAN_ONLY, 15),
    ("statuslist4k-rle", status_bytes, 9, zlib.Z_RLE, 15),
    ("text-window512", text, 9, zlib.Z_DEFAULT_STRATEGY, 9),
]:
    out = compress_with(data, level, strategy, wbits)
    vectors.append((name, level, block_type(out), data, out))
assert any(v[2] == 2 for v in vectors), "no dynamic Huffman vector"
assert any(v[2] == 1 for v in vectors), "no fixed Huffman vector"
assert any(v[2] == 0 for v in vectors), "no stored vector"


# ---------------------------------------------------------------- Swift output
def swift_string(text):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def swift_bytes(data):
    return "[" + ", ".join("0x%02x" % b for b in data) + "]"


w = sys.stdout.write
w("// GENERATED by scripts/make-jose-vectors.py with joserfc and CPython zlib. Do not edit by hand:\n")
w("//     python3 scripts/make-jose-vectors.py > Tests/JoinInCoreTests/JOSEVectors.swift\n")
w("// The key material is TEST-ONLY (RFC 8032 §7.1 TEST 1 secret key); never use it for real tokens.\n\n")
w("enum CredJOSEVectors {\n")
w("    /// TEST-ONLY Ed25519 private key seed (RFC 8032 §7.1 TEST 1). Public, never for real use.\n")
w(f"    static let testOnlySeed: [UInt8] = {swift_bytes(TEST_ONLY_SEED)}\n")
w(f"    static let publicKeyHex = {swift_string(RFC8032_PUBLIC)}\n")
w("    /// RFC 8032 §7.1 TEST 1: the signature of the empty message.\n")
w(f"    static let emptyMessageSignatureHex = {swift_string(RFC8032_EMPTY_SIGNATURE)}\n")
w(f"    static let publicKeyX = {swift_string(public_x)}\n")
w(f"    static let kid = {swift_string(KID)}\n")
w("    /// joserfc `KeySet([ECKey, OKPKey]).as_dict(private=False)`: a P-256 key, then the Ed25519 key.\n")
w(f"    static let jwks = {swift_string(jwks_json)}\n\n")
w(f"    static let permitIssuedAt: Int64 = {PERMIT_IAT}\n")
w(f"    static let permitExpiresAt: Int64 = {PERMIT_EXP}\n")
w("    /// The exact payload bytes (UTF-8) signed by joserfc.\n")
w(f"    static let permitPayload = {swift_string(permit_payload.decode('utf-8'))}\n")
w("    /// joserfc `jws.serialize_compact` with header {\"alg\":\"EdDSA\",\"kid\":\"test-2026\",\"typ\":\"joinin-permit+jwt\"}.\n")
w(f"    static let permitJWS = {swift_string(permit_jws)}\n\n")
w(f"    static let statusListURI = {swift_string(STATUS_URI)}\n")
w(f"    static let statusListIssuedAt: Int64 = {STATUS_IAT}\n")
w(f"    static let statusListExpiresAt: Int64 = {STATUS_EXP}\n")
w(f"    static let statusListTTL: Int64 = {STATUS_TTL}\n")
w(f"    static let statusListCapacity = {STATUS_CAPACITY}\n")
w(f"    static let statusListRevoked = {json.dumps(STATUS_REVOKED)}\n")
w("    /// `lst` = base64url(zlib.compress(bytes, 9)), signed by joserfc with typ statuslist+jwt.\n")
w(f"    static let statusListJWS = {swift_string(status_jws)}\n\n")
w("    /// CPython `zlib.compress(input, level)` (and one compressobj stream with a sync flush).\n")
w("    /// blockType is the BTYPE of the first DEFLATE block: 0 stored, 1 fixed, 2 dynamic Huffman.\n")
w("    static let zlib: [CredZlibVector] = [\n")
for name, level, btype, data, compressed in vectors:
    w(f"        CredZlibVector(name: {swift_string(name)}, level: {level}, blockType: {btype},\n")
    w(f"                       inputHex: \"{data.hex()}\",\n")
    w(f"                       compressedHex: \"{compressed.hex()}\"),\n")
w("    ]\n")
w("}\n\n")
w("struct CredZlibVector: Sendable {\n")
w("    let name: String\n")
w("    let level: Int\n")
w("    let blockType: Int\n")
w("    let inputHex: String\n")
w("    let compressedHex: String\n")
w("}\n")
