"""Issue 19 item 2: certificates as signed Open Badges 3.0 credentials — offline verification with files only,
revocation through the status list, tampering, key rotation, public endpoints, the download per role."""

import base64
import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from training.certificates import certificate_revoke
from training.credentials import MIN_LIST_BITS, bit_set, encode_bits, identity_hash, rotate_key
from training.management.commands.verify_credential import verify_files
from training.models import Certificate, Project


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.CREDENTIAL_KEY_FILE = tmp_path / "keys" / "credential-keys.json"
    rotate_key()
    return settings.CREDENTIAL_KEY_FILE


@pytest.fixture
def certificates(city):
    """A valid certificate for each of the three teachers of `city` (schools S1, S2 in D1; S3 in D2)."""
    from training.services import result_record

    project = Project.objects.create(
        code="SP1", name="市级研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("30"),
        credits=D("12"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 3, 5), organiser="市教师发展中心")
    for teacher in city["teachers"]:
        result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 3, 5),
                      certified_hours=None, actor=None)
    return [Certificate.objects.get(teacher=t) for t in city["teachers"]]


def download(client, url, path):
    response = client.get(url)
    assert response.status_code == 200, url
    path.write_bytes(response.content)
    return path


def payload_of(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_downloaded_credential_verifies_offline_and_fails_once_revoked_and_list_refreshed(
        client, users, certificates, tmp_path, django_assert_num_queries):
    own = certificates[0]
    client.force_login(users["teacher"])
    credential = download(client, f"/certificates/{own.code}.jwt", tmp_path / "c.jwt")
    client.logout()
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    status = download(client, "/credentials/status/1", tmp_path / "status.jwt")

    with django_assert_num_queries(0):  # files only: no database, no server
        result = verify_files(credential, jwks=jwks, status=status)
    assert result.ok, result.errors
    body = result.credential
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert body["validFrom"].startswith("2026-03-05T00:00:00")
    assert body["issuer"]["id"] == "http://localhost:8000/"  # CREDENTIAL_ISSUER_URL's development default
    achievement = body["credentialSubject"]["achievement"]
    assert (achievement["humanCode"], achievement["name"], achievement["tag"]) == ("SP1", "市级研修", ["市培"])
    assert body["credentialSubject"]["creditsEarned"] == 30.0
    assert body["credentialStatus"]["statusListIndex"] == str(own.pk)
    ident = body["credentialSubject"]["identifier"][0]
    assert ident["identityHash"] == identity_hash("T1", ident["salt"])
    assert own.teacher.id_number is None or own.teacher.id_number not in credential.read_text()

    certificate_revoke(certificate_id=own.pk, reason="测试撤销")
    # the list downloaded before the revocation still says valid: the verifier trusts the last list it has
    assert verify_files(credential, jwks=jwks, status=status).ok
    refreshed = download(client, "/credentials/status/1", tmp_path / "status2.jwt")
    with django_assert_num_queries(0):
        result = verify_files(credential, jwks=jwks, status=refreshed)
    assert not result.ok and "证书已撤销。" in result.errors
    # the others on the same list stay valid
    client.force_login(users["bureau"])
    other = download(client, f"/certificates/{certificates[1].code}.jwt", tmp_path / "o.jwt")
    assert verify_files(other, jwks=jwks, status=refreshed).ok


def test_the_command_reports_pass_and_fail(client, users, certificates, tmp_path, capsys):
    client.force_login(users["teacher"])
    credential = download(client, f"/certificates/{certificates[0].code}.jwt", tmp_path / "c.jwt")
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    call_command("verify_credential", str(credential), "--jwks", str(jwks))
    assert "验证通过" in capsys.readouterr().out
    certificate_revoke(certificate_id=certificates[0].pk, reason="测试撤销")
    status = download(client, "/credentials/status/1", tmp_path / "status.jwt")
    with pytest.raises(CommandError, match="证书已撤销"):
        call_command("verify_credential", str(credential), "--jwks", str(jwks), "--status", str(status))


def test_a_tampered_credential_fails(client, users, certificates, tmp_path):
    client.force_login(users["teacher"])
    token = client.get(f"/certificates/{certificates[0].code}.jwt").content.decode()
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    header, _, signature = token.split(".")
    body = payload_of(token)
    body["credentialSubject"]["creditsEarned"] = 300.0
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    (tmp_path / "t.jwt").write_text(f"{header}.{forged}.{signature}")
    result = verify_files(tmp_path / "t.jwt", jwks=jwks)
    assert not result.ok and result.errors[0].startswith("签名验证失败")
    (tmp_path / "u.jwt").write_text(token)
    assert verify_files(tmp_path / "u.jwt", jwks=jwks).ok  # the untouched one passes: the test can fail


def test_a_credential_signed_by_a_rotated_out_key_still_verifies(client, users, certificates, tmp_path, key_file):
    client.force_login(users["teacher"])
    old = download(client, f"/certificates/{certificates[0].code}.jwt", tmp_path / "old.jwt")
    old_kid = json.loads(base64.urlsafe_b64decode(old.read_text().split(".")[0] + "=="))["kid"]
    call_command("credential_key", "--rotate")
    stored = json.loads(key_file.read_text())
    assert stored["current"] != old_kid
    assert [("d" in k) for k in stored["keys"]] == [True, False]  # the old private half is gone
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    assert [k["kid"] for k in json.loads(jwks.read_text())["keys"]] == [stored["current"], old_kid]
    assert all("d" not in k for k in json.loads(jwks.read_text())["keys"])
    result = verify_files(old, jwks=jwks)
    assert result.ok and result.kid == old_kid
    new = download(client, f"/certificates/{certificates[0].code}.jwt", tmp_path / "new.jwt")
    assert verify_files(new, jwks=jwks).kid == stored["current"]
    # a key set without the old key does not accept the old credential
    (tmp_path / "only-new.json").write_text(json.dumps({"keys": json.loads(jwks.read_text())["keys"][:1]}))
    assert not verify_files(old, jwks=tmp_path / "only-new.json").ok


def test_jwks_and_status_list_answer_anonymously(client, certificates, django_assert_max_num_queries):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.json()["keys"][0]["crv"] == "Ed25519"
    certificate_revoke(certificate_id=certificates[2].pk, reason="测试撤销")
    Certificate.objects.filter(pk=certificates[2].pk).update(status_index=certificates[2].pk)
    with django_assert_max_num_queries(2):
        response = client.get("/credentials/status/1")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    subject = payload_of(response.content.decode())["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert bit_set(subject["encodedList"], certificates[2].pk)
    assert not bit_set(subject["encodedList"], certificates[0].pk)
    assert client.get("/credentials/status/2").status_code == 404


def test_status_bits_at_the_edges():
    encoded = encode_bits([0, 7, 8, MIN_LIST_BITS - 1])
    assert [bit_set(encoded, i) for i in (0, 1, 7, 8, 9, MIN_LIST_BITS - 1)] == [True, False, True, True, False, True]
    with pytest.raises(ValueError):
        bit_set(encoded, MIN_LIST_BITS)  # the list is exactly the minimum length
    grown = encode_bits([MIN_LIST_BITS])  # an index past the minimum grows the list
    assert bit_set(grown, MIN_LIST_BITS) and not bit_set(grown, MIN_LIST_BITS - 1)


@pytest.mark.parametrize("role, own_status, other_status", [
    ("teacher", 200, 404), ("principal", 200, 404), ("district", 200, 404), ("bureau", 200, 200),
    ("auditor", 200, 200), ("anonymous", 302, 302),
])
def test_download_per_role(client, users, certificates, role, own_status, other_status, django_assert_max_num_queries):
    if role != "anonymous":
        client.force_login(users[role])
    with django_assert_max_num_queries(8):
        response = client.get(f"/certificates/{certificates[0].code}.jwt")
    assert response.status_code == own_status
    assert client.get(f"/certificates/{certificates[2].code}.jwt").status_code == other_status  # D2's teacher


def test_pdf_embeds_the_credential_and_pages_link_it(client, users, certificates):
    client.force_login(users["teacher"])
    pdf = client.get(f"/certificates/{certificates[0].code}.pdf").content
    assert pdf.startswith(b"%PDF") and b"/OpenBadgeCredential" in pdf
    token = client.get(f"/certificates/{certificates[0].code}.jwt").content
    assert token in pdf
    assert f"/certificates/{certificates[0].code}.jwt" in client.get("/portal/certificates/").content.decode()
    assert f"/verify/{certificates[0].code}/credential.jwt" in client.get(f"/verify/{certificates[0].code}/").content.decode()


def test_pdf_still_prints_without_a_key(client, users, certificates, settings, tmp_path):
    settings.CREDENTIAL_KEY_FILE = tmp_path / "none.json"
    client.force_login(users["teacher"])
    pdf = client.get(f"/certificates/{certificates[0].code}.pdf").content
    assert pdf.startswith(b"%PDF") and b"/OpenBadgeCredential" not in pdf
    assert client.get(f"/certificates/{certificates[0].code}.jwt").status_code == 503


def test_verify_page_checks_an_uploaded_file(client, users, certificates):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["teacher"])
    token = client.get(f"/certificates/{certificates[0].code}.jwt").content
    client.logout()
    assert client.get("/credentials/verify/").status_code == 200
    page = client.post("/credentials/verify/", {"credential": SimpleUploadedFile("c.jwt", token)}).content.decode()
    assert "验证通过" in page and "市级研修" in page
    certificate_revoke(certificate_id=certificates[0].pk, reason="测试撤销")
    page = client.post("/credentials/verify/", {"credential": SimpleUploadedFile("c.jwt", token)}).content.decode()
    assert "验证未通过" in page and "证书已撤销" in page
    page = client.post("/credentials/verify/", {"credential": SimpleUploadedFile("c.jwt", b"not a token")}).content.decode()
    assert "验证未通过" in page and "JWS" in page


def test_validity_dates_at_the_edges(city):
    from django.utils import timezone

    from training.certificates import certificate_for_title
    from training.credentials import credential_token, public_jwks, verify_token

    title = certificate_for_title(teacher=city["teachers"][0], title="市级骨干教师", completed_on=dt.date(2026, 9, 1),
                                  expires_on=dt.date(2029, 8, 31))
    token = credential_token(title)
    tz = timezone.get_default_timezone()

    def ok_at(*args):
        return verify_token(token, jwks=public_jwks(), now=dt.datetime(*args, tzinfo=tz)).ok

    assert not ok_at(2026, 8, 31, 23, 59, 59) and ok_at(2026, 9, 1, 0, 0, 0)  # validFrom: the day it was awarded
    assert ok_at(2029, 8, 31, 23, 59, 59) and not ok_at(2029, 9, 1, 0, 0, 0)  # valid through its last day
    assert payload_of(token)["credentialSubject"]["achievement"]["achievementType"] == "Award"


def test_credential_key_ensure_keeps_an_existing_key_and_lists_keys(key_file, capsys):
    before = json.loads(key_file.read_text())["current"]
    call_command("credential_key", "--ensure")
    assert json.loads(key_file.read_text())["current"] == before
    call_command("credential_key")
    assert f"{before} 当前" in capsys.readouterr().out


def test_credential_key_ensure_creates_a_missing_key(settings, tmp_path):
    settings.CREDENTIAL_KEY_FILE = tmp_path / "fresh" / "keys.json"
    with pytest.raises(CommandError, match="密钥文件不存在"):
        call_command("credential_key")
    call_command("credential_key", "--ensure")
    assert (tmp_path / "fresh" / "keys.json").stat().st_mode & 0o777 == 0o600


# --- review fixes ------------------------------------------------------------------------------------------

def header_of(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_issuer_comes_from_the_setting_not_the_host_header(client, users, certificates, settings, tmp_path):
    """A credential downloaded through one host name verifies against the list fetched through another."""
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    settings.CREDENTIAL_ISSUER_URL = "https://teachers.example.gov.cn"  # without the slash: normalised
    client.force_login(users["teacher"])
    token = client.get(f"/certificates/{certificates[0].code}.jwt", HTTP_HOST="a.example").content.decode()
    (tmp_path / "c.jwt").write_text(token)
    client.logout()
    (tmp_path / "jwks.json").write_bytes(client.get("/.well-known/jwks.json", HTTP_HOST="b.example").content)
    certificate_revoke(certificate_id=certificates[0].pk, reason="测试撤销")
    (tmp_path / "s.jwt").write_bytes(client.get("/credentials/status/1", HTTP_HOST="b.example").content)
    result = verify_files(tmp_path / "c.jwt", jwks=tmp_path / "jwks.json", status=tmp_path / "s.jwt")
    assert result.errors == ["证书已撤销。"]  # the list is the one the credential names: only the bit fails
    body = result.credential
    assert body["issuer"]["id"] == "https://teachers.example.gov.cn/"
    assert body["id"] == f"https://teachers.example.gov.cn/verify/{certificates[0].code}/"
    assert body["credentialStatus"]["statusListCredential"] == "https://teachers.example.gov.cn/credentials/status/1"
    assert "a.example" not in json.dumps(body)
    client.force_login(users["bureau"])
    lines = pdf_lines(client.get(f"/certificates/{certificates[1].code}.pdf", HTTP_HOST="a.example").content)
    assert f"验证地址：https://teachers.example.gov.cn/verify/{certificates[1].code}/" in lines
    assert not any("a.example" in line for line in lines)


def pdf_lines(pdf: bytes) -> list[str]:
    """The text lines our certificate PDF draws (reportlab: ASCII85 over Flate streams; the CID font's
    strings are UTF-16BE with octal escapes)."""
    import re
    import zlib

    def unescape(match):
        escaped = match.group(1)
        return bytes([int(escaped, 8)]) if escaped[:1].isdigit() else escaped

    lines = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1).strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2], adobe=False)
        try:
            content = zlib.decompress(data)
        except zlib.error:
            continue  # not a content stream
        for text in re.findall(rb"\(((?:[^\\)]|\\.)*)\) Tj", content, re.S):
            raw = re.sub(rb"\\([0-7]{1,3}|.)", unescape, text, flags=re.S)
            lines.append(raw.decode("utf-16-be", errors="replace"))
    return lines


@pytest.mark.parametrize("role", ["teacher", "bureau"])
def test_a_revoked_certificate_gets_no_credential_and_no_pdf(client, users, certificates, role):
    client.force_login(users[role])
    code = certificates[0].code
    assert client.get(f"/certificates/{code}.jwt").status_code == 200
    assert client.get(f"/certificates/{code}.pdf").status_code == 200
    certificate_revoke(certificate_id=certificates[0].pk, reason="测试撤销")
    for url in (f"/certificates/{code}.jwt", f"/certificates/{code}.pdf", f"/verify/{code}/credential.jwt"):
        response = client.get(url)
        assert response.status_code == 410, url
        assert "已撤销" in response.content.decode()
    assert client.get(f"/verify/{certificates[1].code}/credential.jwt").status_code == 200  # others unaffected


def test_the_public_credential_behind_the_verify_page(client, users, certificates, tmp_path):
    """The QR code opens /verify/<code>/; the credential is one public link (or an Accept header) away,
    and it carries nothing of the teacher beyond what that page shows (the hashed 工号 only)."""
    from django.core.cache import cache

    cache.clear()
    certificate = certificates[0]
    teacher = certificate.teacher
    teacher.id_number = "110101199003071234"
    teacher.save(update_fields=["id_number"])
    page = client.get(f"/verify/{certificate.code}/").content.decode()
    assert f'href="/verify/{certificate.code}/credential.jwt"' in page
    response = client.get(f"/verify/{certificate.code}/credential.jwt")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    token = response.content.decode()
    text = json.dumps(payload_of(token), ensure_ascii=False)
    assert teacher.name not in text and teacher.id_number not in text and f'"{teacher.staff_no}"' not in text
    (tmp_path / "c.jwt").write_text(token)
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    assert verify_files(tmp_path / "c.jwt", jwks=jwks).ok
    client.force_login(users["teacher"])
    assert client.get(f"/certificates/{certificate.code}.jwt").content.decode() == token  # one credential
    client.logout()
    negotiated = client.get(f"/verify/{certificate.code}/", HTTP_ACCEPT="application/vc+jwt")
    assert negotiated["Content-Type"] == "application/vc+jwt" and negotiated.content.decode() == token
    assert "Accept" in negotiated["Vary"]
    assert client.get(f"/verify/{certificate.code.lower()}/credential.jwt").status_code == 200
    assert client.get("/verify/ABCDEFGHJKMN/credential.jwt").status_code == 404
    cache.clear()


def test_the_public_credential_is_rate_limited(client, certificates):
    from django.core.cache import cache

    cache.clear()
    statuses = [client.get("/verify/ABCDEFGHJKMN/credential.jwt").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429
    cache.clear()


def test_the_subject_has_no_name_property_and_the_type_is_the_registered_one(client, users, certificates):
    client.force_login(users["teacher"])
    response = client.get(f"/certificates/{certificates[0].code}.jwt")
    assert response["Content-Type"] == "application/vc+jwt"
    token = response.content.decode()
    assert header_of(token)["typ"] == "vc+jwt"
    subject = payload_of(token)["credentialSubject"]
    assert set(subject) == {"type", "identifier", "achievement", "creditsEarned"}
    assert [i["identityType"] for i in subject["identifier"]] == ["identifier"]
    status = client.get("/credentials/status/1")
    assert status["Content-Type"] == "application/vc+jwt" and header_of(status.content.decode())["typ"] == "vc+jwt"


def _signed_with_typ(typ, payload):
    from jwcrypto import jwk, jws
    from jwcrypto.common import json_encode

    from training.credentials import read_keys

    data = read_keys()
    entry = next(e for e in data["keys"] if e["kid"] == data["current"])
    token = jws.JWS(json.dumps(payload).encode())
    header = {"alg": "EdDSA", "kid": entry["kid"]} | ({"typ": typ} if typ else {})
    token.add_signature(jwk.JWK(**entry), alg="EdDSA", protected=json_encode(header))
    return token.serialize(compact=True)


def test_the_verifier_accepts_the_draft_typ_of_credentials_already_issued_and_refuses_others(client, certificates):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from training.credentials import credential_payload, public_jwks, verify_token

    payload = credential_payload(certificates[0])
    legacy = verify_token(_signed_with_typ("vc+ld+jwt", payload), jwks=public_jwks())
    assert legacy.ok and any("vc+ld+jwt" in n for n in legacy.notes)
    upload = SimpleUploadedFile("c.jwt", _signed_with_typ("vc+ld+jwt", payload).encode())
    page = client.post("/credentials/verify/", {"credential": upload}).content.decode()
    assert "验证通过" in page and "草案的类型标记 vc+ld+jwt" in page
    assert verify_token(_signed_with_typ("vc+jwt", payload), jwks=public_jwks()).ok
    for typ in ("JWT", None):
        result = verify_token(_signed_with_typ(typ, payload), jwks=public_jwks())
        assert not result.ok and "凭证类型" in result.errors[0]


def test_credential_key_revoke_withdraws_a_retired_key(client, users, certificates, tmp_path, key_file):
    client.force_login(users["teacher"])
    old = download(client, f"/certificates/{certificates[0].code}.jwt", tmp_path / "old.jwt")
    old_kid = header_of(old.read_text())["kid"]
    call_command("credential_key", "--rotate")
    current = json.loads(key_file.read_text())["current"]
    with pytest.raises(CommandError, match="当前签名密钥"):
        call_command("credential_key", "--revoke", current)
    with pytest.raises(CommandError, match="没有密钥"):
        call_command("credential_key", "--revoke", "no-such-kid")
    assert [k["kid"] for k in json.loads(key_file.read_text())["keys"]] == [current, old_kid]  # nothing changed
    call_command("credential_key", "--revoke", old_kid)
    assert key_file.stat().st_mode & 0o777 == 0o600
    jwks = download(client, "/.well-known/jwks.json", tmp_path / "jwks.json")
    assert [k["kid"] for k in json.loads(jwks.read_text())["keys"]] == [current]
    result = verify_files(old, jwks=jwks)
    assert not result.ok and "不在公钥集" in result.errors[0]
    new = download(client, f"/certificates/{certificates[0].code}.jwt", tmp_path / "new.jwt")
    assert verify_files(new, jwks=jwks).ok


@pytest.mark.parametrize("role", ["anonymous", "teacher", "principal", "district", "bureau", "auditor"])
def test_the_public_credential_answers_every_role_alike(client, users, certificates, role):
    """Public by design (the QR code): every role, signed in or not and whatever its scope, gets the same bytes."""
    from django.core.cache import cache

    cache.clear()
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(f"/verify/{certificates[2].code}/credential.jwt")  # D2's teacher: outside most scopes
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    assert payload_of(response.content.decode())["id"].endswith(f"/verify/{certificates[2].code}/")
    cache.clear()
