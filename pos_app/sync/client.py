"""Talking to HQ: every request signed with the till's key, over verified TLS.

- HTTPS is verified against the CA file given at setup (`--ca`, HQ's own certificate
  authority) or the system's CAs. Plain http is accepted only when HQ is on this machine
  (a loopback address), where nothing travels over a network.
- Every request except enrollment carries the signature headers of
  `pos_app.domain.sync_signing`, over the path exactly as sent (with its query).
- Faults come back as two errors (`pos_app.sync.errors`): `HqUnreachable` when no answer
  from HQ came back (refused, timed out, cut, TLS failed, a proxy's 5xx), and `HqRefused`
  with HQ's own code when HQ answered no.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.domain.sync_signing import sign_request
from pos_app.sync.errors import HqAddressRefused, HqRefused, HqUnreachable

# Connecting should be quick or not at all; a batch of 1,000 entries may take HQ a moment.
TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _utc_now() -> datetime:
    return datetime.now(UTC)


def check_hq_url(url: str) -> str:
    """The HQ address, normalised (no trailing slash), or `HqAddressRefused`: only https,
    or http to a loopback address."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # a bad port raises here
    except ValueError:
        host = ""
    if parts.scheme not in ("http", "https") or not host:
        raise HqAddressRefused(
            f"总部地址不对：{text}（应为 https://主机[:端口]）",
            f"Not an HQ address: {text} (expected https://host[:port])",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise HqAddressRefused(
            f"总部地址不能带查询参数、片段或用户名密码：{parts.scheme}://{host}",
            f"An HQ address takes no query, fragment or user name and password: "
            f"{parts.scheme}://{host}",
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise HqAddressRefused(
            f"不安全的总部地址：{text}。只有本机（127.0.0.1、localhost）上的总部可以用 http，"
            "其它地址必须用 https",
            f"Insecure HQ address: {text}. Plain http is allowed only for an HQ on this "
            "machine (127.0.0.1, localhost); any other address must use https",
        )
    return text.rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verification against HQ's CA file, or against the system's CAs without one."""
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise HqAddressRefused(
            f"无法读取总部的 CA 证书文件 {path}：{getattr(exc, 'strerror', None) or exc}",
            f"Cannot read HQ's CA certificate file {path}: {getattr(exc, 'strerror', None) or exc}",
            code="sync_ca_file",
        ) from None


class HqClient:
    """One HQ, one till: signed JSON requests. Close it (or use `with`) when done."""

    def __init__(
        self,
        hq_url: str,
        till_id: str,
        private_key: Ed25519PrivateKey | None,
        ca_file: str | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.base_url = check_hq_url(hq_url)
        self.till_id = till_id
        self._key = private_key
        self._clock = clock
        self._http = httpx.Client(
            verify=tls_context(ca_file), timeout=timeout, follow_redirects=False
        )

    def __enter__(self) -> HqClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def enroll(self, token: str, public_key: str) -> dict[str, Any]:
        """POST /v1/enroll (not signed: the one-time token is the credential)."""
        body = {"token": token, "till": self.till_id, "public_key": public_key}
        return self._send("POST", "/v1/enroll", body, signed=False)

    def get(self, path: str, params: dict[str, int] | None = None) -> dict[str, Any]:
        if params:
            path = path + "?" + "&".join(f"{k}={int(v)}" for k, v in params.items())
        return self._send("GET", path, None, signed=True)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", path, body, signed=True)

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, *, signed: bool
    ) -> dict[str, Any]:
        content = b"" if body is None else _json_bytes(body)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method, self.base_url + path, content=content, headers=headers
        )
        if signed:
            if self._key is None:
                raise ValueError("a signed request needs the till's private key")
            sent_path = request.url.raw_path.decode("ascii")
            request.headers.update(
                sign_request(self._key, self.till_id, method, sent_path, content, self._clock())
            )
        try:
            response = self._http.send(request)
            response.read()
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None
        return _answer(self.base_url, response)


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _unreachable(base_url: str, exc: httpx.HTTPError) -> HqUnreachable:
    cause = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in cause or "certificate verify failed" in cause:
        return HqUnreachable(
            f"总部 {base_url} 的证书未通过验证（{cause}）：请用 --ca 指定总部的 CA 证书文件",
            f"HQ's certificate at {base_url} does not verify ({cause}): give HQ's CA "
            "certificate file with --ca",
            code="sync_tls",
        )
    if isinstance(exc, httpx.TimeoutException):
        zh, en = "总部没有及时应答", "HQ did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        zh, en = "连不上总部", "Cannot connect to HQ"
    else:
        zh, en = "与总部的连接中断", "The connection to HQ broke off"
    return HqUnreachable(f"{zh}：{base_url}（{cause}）", f"{en}: {base_url} ({cause})")


def _answer(base_url: str, response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code == 200 and isinstance(data, dict):
        return data
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        code = data["code"]
        zh = str(data.get("zh") or data.get("en") or code)
        en = str(data.get("en") or code)
        return_status = response.status_code
        raise HqRefused(
            f"总部拒绝了请求（{code}）：{zh}",
            f"HQ refused the request ({code}): {en}",
            code=code,
            status=return_status,
            body=data,
        )
    if response.status_code >= 500 or response.status_code == 200:
        # A proxy's error page, a server restarting, a 200 cut short: not HQ's word.
        raise HqUnreachable(
            f"总部 {base_url} 暂时不能应答（HTTP {response.status_code}）",
            f"HQ at {base_url} cannot answer now (HTTP {response.status_code})",
        )
    raise HqRefused(
        f"总部拒绝了请求（HTTP {response.status_code}）",
        f"HQ refused the request (HTTP {response.status_code})",
        code=f"http_{response.status_code}",
        status=response.status_code,
        body={},
    )
