"""Certificates as Open Badges 3.0 credentials (issue 19 item 2; docs/decisions.md).

Profile: W3C VC Data Model 2.0 secured with VC-JOSE-COSE — the credential JSON is the payload of a compact JWS
(`typ: vc+jwt`, media type application/vc+jwt, `alg: EdDSA`, Ed25519, `kid` naming the bureau key).
Revocation: W3C Bitstring Status List (`BitstringStatusListCredential`, itself a signed JWS), one bit per
certificate at `Certificate.status_index`.

The signing keys live in a JSON file outside the database (settings.CREDENTIAL_KEY_FILE): the current private
key and the public halves of every rotated-out key, so old credentials still verify against /.well-known/jwks.json.
`verify_token` needs no database and no server: a JWKS, and optionally a status list, are all it reads.
Every URL in a credential starts with settings.CREDENTIAL_ISSUER_URL, never with a request's host.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import Certificate, CertificateStatus

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# The JOSE `typ` and media type registered by the VC-JOSE-COSE Recommendation. Credentials signed before
# the switch carry the draft's "vc+ld+jwt": still accepted by the verifier, with a note.
TOKEN_TYPE = "vc+jwt"
LEGACY_TOKEN_TYPES = frozenset({"vc+ld+jwt"})
MEDIA_TYPE = "application/vc+jwt"
STATUS_LIST_ID = 1
# The spec's minimum list length (16 KB of bits) keeps one certificate's bit from standing out.
MIN_LIST_BITS = 131072


class CredentialKeyMissing(Exception):
    """No key file yet (`manage.py credential_key --rotate` creates one), or no CREDENTIAL_KEY_FILE at all
    (production has no default: the key never lives in the image)."""


class KeyRevokeRefused(ValueError):
    """`revoke_key` refuses the current signing key and a kid the file does not hold (Chinese message)."""


# --- keys ------------------------------------------------------------------------------------------------

def key_file() -> Path:
    if not settings.CREDENTIAL_KEY_FILE:
        raise CredentialKeyMissing("CREDENTIAL_KEY_FILE is not set")
    return Path(settings.CREDENTIAL_KEY_FILE)


def _write_keys(path: Path, data: dict) -> None:
    """The key file, 0600, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
    os.replace(tmp, path)


def read_keys(path: Path | None = None) -> dict:
    path = path or key_file()
    if not path.exists():
        raise CredentialKeyMissing(f"credential key file {path} missing; run manage.py credential_key --rotate")
    return json.loads(path.read_text())


def rotate_key(path: Path | None = None) -> str:
    """A new Ed25519 key becomes current; the previous one keeps only its public half (published, never
    used to sign again). Returns the new key id. The file is written 0600, replaced atomically."""
    from jwcrypto import jwk

    path = path or key_file()
    data = json.loads(path.read_text()) if path.exists() else {"current": None, "keys": []}
    retired = []
    for entry in data["keys"]:
        public = {k: v for k, v in entry.items() if k != "d"}  # drop the private half of old keys
        retired.append(public)
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    kid = key.thumbprint()
    private = json.loads(key.export_private())
    private.update(kid=kid, alg="EdDSA", use="sig")
    _write_keys(path, {"current": kid, "keys": [private, *retired]})
    return kid


def revoke_key(kid: str, path: Path | None = None) -> None:
    """Withdraw a rotated-out key from the public key set (a leaked or retired key): credentials it signed
    stop verifying. The current signing key cannot be withdrawn — rotate first."""
    path = path or key_file()
    data = read_keys(path)
    if kid == data["current"]:
        raise KeyRevokeRefused(f"{kid} 是当前签名密钥，不能撤回；请先 --rotate 换新密钥，再撤回它。")
    if not any(entry["kid"] == kid for entry in data["keys"]):
        raise KeyRevokeRefused(f"密钥文件中没有密钥 {kid}。")
    _write_keys(path, {"current": data["current"], "keys": [e for e in data["keys"] if e["kid"] != kid]})


def public_jwks(path: Path | None = None) -> dict:
    """Every key's public half, current first: what /.well-known/jwks.json serves."""
    return {"keys": [{k: v for k, v in entry.items() if k != "d"} for entry in read_keys(path)["keys"]]}


def _signing_key():
    from jwcrypto import jwk

    data = read_keys()
    entry = next(e for e in data["keys"] if e["kid"] == data["current"])
    return jwk.JWK(**entry), entry["kid"]


def sign(payload: dict) -> str:
    from jwcrypto import jws
    from jwcrypto.common import json_encode

    key, kid = _signing_key()
    token = jws.JWS(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    token.add_signature(key, alg="EdDSA", protected=json_encode({"alg": "EdDSA", "kid": kid, "typ": TOKEN_TYPE}))
    return token.serialize(compact=True)


# --- the credential --------------------------------------------------------------------------------------

def issuer_base() -> str:
    """The issuer's URL without its final slash (settings.CREDENTIAL_ISSUER_URL): one value whichever host
    name a request came through, so a credential fetched via one verifies against a list fetched via another."""
    return settings.CREDENTIAL_ISSUER_URL.rstrip("/")


def issuer() -> dict:
    return {"id": issuer_base() + "/", "type": ["Profile"], "name": settings.CREDENTIAL_ISSUER_NAME}


def status_list_url() -> str:
    return f"{issuer_base()}/credentials/status/{STATUS_LIST_ID}"


def verify_url(code: str) -> str:
    """The public verification page of a certificate: the credential's id and the PDF's QR code."""
    return f"{issuer_base()}/verify/{code}/"


def identity_hash(staff_no: str, salt: str) -> str:
    """OB 3.0 IdentityObject hash of the 工号 (never the 身份证号): sha256 of 工号 + salt, hex."""
    return "sha256$" + hashlib.sha256((staff_no + salt).encode()).hexdigest()


def _salt(code: str) -> str:
    # Derived, not stored: the same certificate gives the same credential on every download.
    return hmac.new(settings.SECRET_KEY.encode(), f"credential-salt:{code}".encode(), hashlib.sha256).hexdigest()[:16]


def ensure_status_index(certificate: Certificate) -> int:
    """The certificate's bit in the status list: its id, fixed the first time (rows from before the field
    got it in the migration)."""
    if certificate.status_index is None:
        Certificate.objects.filter(pk=certificate.pk, status_index__isnull=True).update(status_index=F("id"))
        certificate.status_index = certificate.pk
    return certificate.status_index


def _midnight(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone()).isoformat()


def credential_payload(certificate: Certificate) -> dict:
    """The OpenBadgeCredential JSON of a certificate (teacher and project loaded by the caller). The subject
    is the hashed 工号 only: no name (a salted hash of a Chinese name is reversed by trying the common ones,
    the salt being public), never the 身份证号 — so the public copy behind /verify/<code>/ shows no more of
    the teacher than that page does."""
    base = issuer_base()
    teacher, project = certificate.teacher, certificate.project
    index = ensure_status_index(certificate)
    salt = _salt(certificate.code)
    if project is not None:
        achievement = {
            "id": f"{base}/projects/{project.code}",
            "type": ["Achievement"],
            "achievementType": "Course",
            "humanCode": project.code,
            "name": project.name,
            "description": f"{project.level}培训项目“{project.name}”，承办单位：{project.organiser}。",
            "criteria": {"narrative": "参加培训并经考核合格。"},
            "creditsAvailable": float(project.hours),
            "tag": [project.level],
        }
    else:
        achievement = {
            "id": f"{base}/titles/{hashlib.sha256(certificate.title.encode()).hexdigest()[:16]}",
            "type": ["Achievement"],
            "achievementType": "Award",
            "name": certificate.title,
            "description": f"经评审认定为{certificate.title}。",
            "criteria": {"narrative": "经评审认定。"},
        }
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityType": "identifier", "hashed": True,
                        "identityHash": identity_hash(teacher.staff_no, salt), "salt": salt}],
        "achievement": achievement,
    }
    if certificate.hours is not None:
        subject["creditsEarned"] = float(certificate.hours)
    payload = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": certificate.title,
        "issuer": issuer(),
        "validFrom": _midnight(certificate.completed_on),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{status_list_url()}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_list_url(),
        },
    }
    if certificate.expires_on is not None:
        payload["validUntil"] = _midnight(certificate.expires_on + dt.timedelta(days=1))
    return payload


def credential_token(certificate: Certificate) -> str:
    """The signed credential; only a VALID certificate has one (the views answer 410 otherwise)."""
    if certificate.status != CertificateStatus.VALID:
        raise ValueError("a revoked certificate is not signed as a credential")
    return sign(credential_payload(certificate))


# --- the status list -------------------------------------------------------------------------------------

def encode_bits(indexes) -> str:
    indexes = list(indexes)
    size = max(MIN_LIST_BITS, ((max(indexes, default=0) + 1 + 7) // 8) * 8)
    bits = bytearray(size // 8)
    for i in indexes:
        bits[i // 8] |= 0x80 >> (i % 8)  # index 0 is the first byte's leftmost bit (the spec's order)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")


def bit_set(encoded: str, index: int) -> bool:
    raw = encoded[1:] if encoded.startswith("u") else encoded
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    if index // 8 >= len(bits):
        raise ValueError("status index beyond the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_payload() -> dict:
    revoked = Certificate.objects.filter(status=CertificateStatus.REVOKED, status_index__isnull=False)
    url = status_list_url()
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer(),
        "validFrom": timezone.now().replace(microsecond=0).isoformat(),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_bits(revoked.values_list("status_index", flat=True))},
    }


def status_list_token() -> str:
    return sign(status_list_payload())


# --- verification (offline: no database, no server) -----------------------------------------------------

@dataclass
class Verification:
    ok: bool = False
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    credential: dict | None = None
    kid: str = ""


def _verified_payload(token: str, jwks: dict) -> tuple[dict, str, str]:
    """The payload, key id and `typ` of a compact JWS signed by one of the keys; ValueError (Chinese)
    otherwise. The typ must be vc+jwt, or the draft's vc+ld+jwt that credentials signed before carry."""
    from jwcrypto import jwk, jws
    from jwcrypto.common import JWException

    token = token.strip()
    try:
        parsed = jws.JWS()
        parsed.deserialize(token)
        header = parsed.jose_header
    except (JWException, ValueError, TypeError) as exc:
        raise ValueError("文件不是有效的签名凭证（JWS 格式错误）。") from exc
    if header.get("alg") != "EdDSA":
        raise ValueError("凭证签名算法不是 EdDSA。")
    typ = header.get("typ")
    if typ != TOKEN_TYPE and typ not in LEGACY_TOKEN_TYPES:
        raise ValueError(f"凭证类型标记（typ）不是 {TOKEN_TYPE}。")
    entry = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if entry is None:
        raise ValueError("凭证的签名密钥不在公钥集中。")
    try:
        parsed.verify(jwk.JWK(**{k: v for k, v in entry.items() if k != "d"}), alg="EdDSA")
    except (JWException, ValueError) as exc:
        raise ValueError("签名验证失败：凭证内容被改动或不是本局签发。") from exc
    try:
        return json.loads(parsed.payload), header["kid"], typ
    except ValueError as exc:
        raise ValueError("凭证内容不是 JSON。") from exc


def verify_token(token: str, *, jwks: dict, status_token: str | None = None, now: dt.datetime | None = None) -> Verification:
    """Check a credential against a public key set and (if given) a status list JWS: signature, type,
    validity dates and revocation. Reads no database and calls no server."""
    result = Verification()
    now = now or dt.datetime.now(dt.UTC)
    try:
        credential, result.kid, typ = _verified_payload(token, jwks)
    except ValueError as exc:
        result.errors.append(str(exc))
        return result
    result.credential = credential
    if typ in LEGACY_TOKEN_TYPES:
        result.notes.append(f"凭证使用草案的类型标记 {typ}（改用 {TOKEN_TYPE} 之前签发），仍予接受。")
    if "OpenBadgeCredential" not in (credential.get("type") or []):
        result.errors.append("不是 OpenBadgeCredential 类型的凭证。")
    try:
        if dt.datetime.fromisoformat(credential["validFrom"]) > now:
            result.errors.append("凭证尚未生效。")
        if credential.get("validUntil") and dt.datetime.fromisoformat(credential["validUntil"]) <= now:
            result.errors.append("凭证已过有效期。")
    except (KeyError, ValueError, TypeError):  # missing, malformed, or without a time zone
        result.errors.append("凭证缺少有效的生效日期。")
    status = credential.get("credentialStatus") or {}
    if status_token is None:
        result.notes.append("未提供状态列表，未检查是否撤销。")
    else:
        try:
            status_list, _, _ = _verified_payload(status_token, jwks)
        except ValueError as exc:
            result.errors.append(f"状态列表：{exc}")
        else:
            if status_list.get("id") != status.get("statusListCredential"):
                result.errors.append("状态列表与凭证所指的不是同一个。")
            else:
                try:
                    revoked = bit_set(status_list["credentialSubject"]["encodedList"], int(status["statusListIndex"]))
                except (KeyError, ValueError, OSError):
                    result.errors.append("状态列表无法解读。")
                else:
                    if revoked:
                        result.errors.append("证书已撤销。")
                    result.notes.append(f"状态列表发布于 {status_list.get('validFrom', '')}。")
    result.ok = not result.errors
    return result
