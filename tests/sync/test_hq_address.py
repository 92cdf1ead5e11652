"""Which HQ addresses the till talks to: https anywhere, plain http only on this machine."""

from __future__ import annotations

import pytest

from pos_app.sync.client import check_hq_url, tls_context
from pos_app.sync.errors import HqAddressRefused


@pytest.mark.parametrize(
    "url",
    [
        "https://hq.example.com",
        "https://hq.example.com:8443/",
        "http://127.0.0.1:8000",
        "http://127.5.6.7:8000",
        "http://localhost:8000/",
        "http://[::1]:8000",
    ],
)
def test_accepted(url: str):
    assert check_hq_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://hq.example.com",
        "http://192.168.1.10:8000",
        "http://10.0.0.1",
        "http://[::2]:80",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_off_this_machine_is_refused(url: str):
    with pytest.raises(HqAddressRefused) as caught:
        check_hq_url(url)
    assert "https" in caught.value.en and "https" in caught.value.zh
    assert caught.value.code == "sync_hq_url"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hq.example.com",
        "hq.example.com",
        "https://",
        "https://hq.example.com:99999",
        "https://user:pw@hq.example.com",
        "https://hq.example.com/?x=1",
    ],
)
def test_not_an_hq_address(url: str):
    with pytest.raises(HqAddressRefused):
        check_hq_url(url)


def test_a_ca_file_that_cannot_be_read_is_refused(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(HqAddressRefused) as caught:
        tls_context(str(bad))
    assert caught.value.code == "sync_ca_file"
    with pytest.raises(HqAddressRefused):
        tls_context(str(tmp_path / "missing.pem"))
