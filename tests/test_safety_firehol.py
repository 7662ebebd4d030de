"""IP block lists (safety.md §9)."""

import pytest

from duo.safety.firehol import IpBlockList

NETSET = """\
#
# firehol_test.netset
#
1.2.3.0/24
5.6.7.8
10.0.0.0/8
10.1.0.0/16
10.255.255.255/32
11.0.0.0/8
192.168.1.77/16
not an address

2001:db8::/32
::1
"""


@pytest.fixture(scope="module")
def blocklist() -> IpBlockList:
    return IpBlockList.from_text(NETSET)


@pytest.mark.parametrize(
    "ip",
    [
        "1.2.3.0",
        "1.2.3.255",
        "5.6.7.8",
        "10.0.0.0",
        "10.200.3.4",
        "11.255.255.255",
        "192.168.200.1",
        "2001:db8::1",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "::1",
        "::ffff:1.2.3.4",
        " 1.2.3.4 ",
    ],
)
def test_listed(blocklist: IpBlockList, ip: str) -> None:
    assert blocklist.contains(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "1.2.4.0",
        "1.2.2.255",
        "5.6.7.9",
        "9.255.255.255",
        "12.0.0.0",
        "192.167.255.255",
        "2001:db9::",
        "2001:db7:ffff::",
        "::2",
        "0.0.0.0",
        "255.255.255.255",
        "",
        "garbage",
    ],
)
def test_not_listed(blocklist: IpBlockList, ip: str) -> None:
    assert not blocklist.contains(ip)


def test_several_lists_combine() -> None:
    combined = IpBlockList.from_text("1.1.1.1\n", "# c\n2.2.2.0/31\n")
    assert combined.contains("1.1.1.1") and combined.contains("2.2.2.1")
    assert not combined.contains("2.2.2.2")


def test_only_one_family() -> None:
    assert not IpBlockList.from_text("::/128\n").contains("0.0.0.0")


@pytest.mark.parametrize("text", ["", "# only comments\n\n", "bogus\n"])
def test_list_without_networks_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        IpBlockList.from_text(text)
