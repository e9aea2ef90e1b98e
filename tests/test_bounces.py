"""Bounces and complaints: the fixtures, written in the forms real MTAs send, each read as the
right address and action; what is not a bounce left alone with its reason; the mailboxes they
come in (mbox, Maildir, IMAP) read whole and unchanged; and no message, however mangled, makes
the reading raise."""

from __future__ import annotations

import email
import email.policy
import mailbox
import unicodedata
from email.message import Message
from pathlib import Path

import pytest
from flufl.bounce import all_failures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.bounces import (
    MAX_MESSAGE_BYTES,
    Bounce,
    Unrecognised,
    classify,
    read_imap,
    read_mailbox,
)
from newsletter.errors import NewsletterError
from newsletter.verp import message_id_prefix
from tests.conftest import DATA
from tests.imapserver import ImapServer

BOUNCES = DATA / "bounces"
RETURN_PATH = "bounces@ilo.org"
FIXTURES = sorted(path.name for path in BOUNCES.glob("*.eml"))


def _message(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _read(name: str, *changes: tuple[bytes, bytes]) -> Message:
    data = (BOUNCES / name).read_bytes()
    for old, new in changes:
        assert old in data
        data = data.replace(old, new)
    return _message(data)


def _our_id(hex32: str) -> str:
    return f"<2020-11.{hex32}@ilo.org>"


# name: kind, addresses, status, message_id, verp
EXPECTED = {
    "postfix-user-unknown.eml": (
        "hard",
        ("amina.diallo@example.org",),
        "5.1.1",
        _our_id("f0c70f14f42048aea0f86909567307cb"),
        None,
    ),
    "exim-permanent.eml": (
        "hard",
        ("kwame.mensah@example.net",),
        "5.1.1",
        _our_id("57c635527ad544fa9f305420de288d35"),
        None,
    ),
    "office365-recipient-not-found.eml": (
        "hard",
        ("maria.gonzalez@example.com",),
        "5.1.10",
        _our_id("5e6300314bf0458ba75b416ee0448365"),
        None,
    ),
    "gmail-no-such-user.eml": (
        "hard",
        ("no.such.reader.2020@gmail.com",),
        "5.1.1",
        _our_id("d841084d95854bae9b779c163b2598c9"),
        None,
    ),
    "postfix-delayed-mailbox-full.eml": (
        "soft",
        ("li.wei@example.com.cn",),
        "4.2.2",
        _our_id("953028080098460bba3675b6e4dd3bad"),
        None,
    ),
    "yahoo-arf-complaint.eml": (
        "complaint",
        ("sofia.rossi@yahoo.example",),
        "abuse",
        _our_id("1952f494312d48788f6fc77f39be92fe"),
        None,
    ),
    # The copy it quotes has lost its headers: only the address it came back to names the send.
    "qmail-verp.eml": (
        "hard",
        ("pedro.alves@example.com.br",),
        "5.1.1",
        None,
        "2020-11.e85e6cb7e6bd4619bb1d975d1fd650e6",
    ),
}

LEFT_ALONE = {
    "out-of-office.eml": "an automatic reply (out of office), not a bounce",
    "human-reply.eml": "not a delivery report or a complaint",
    "garbage-truncated.eml": "from a mail system, but names no failed recipient",
}


def test_every_fixture_is_expected_one_way_or_the_other() -> None:
    assert sorted(EXPECTED.keys() | LEFT_ALONE.keys()) == FIXTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bounce_maps_to_its_address_and_action(name: str) -> None:
    kind, addresses, status, message_id, verp = EXPECTED[name]

    found = classify(_read(name), f"Maildir/new/{name}", RETURN_PATH)

    assert isinstance(found, Bounce), found
    assert (found.kind, found.addresses, found.status) == (kind, addresses, status)
    assert (found.message_id, found.verp) == (message_id, verp)
    assert found.source == f"Maildir/new/{name}"
    assert found.diagnostic


def test_the_diagnostic_is_what_the_remote_server_said() -> None:
    postfix = classify(_read("postfix-user-unknown.eml"), "m#1")
    office = classify(_read("office365-recipient-not-found.eml"), "m#2")
    exim = classify(_read("exim-permanent.eml"), "m#3")

    assert isinstance(postfix, Bounce)
    assert isinstance(office, Bounce)
    assert isinstance(exim, Bounce)
    assert postfix.diagnostic == (
        "550 5.1.1 <Amina.Diallo@example.org>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert office.diagnostic.startswith("550 5.1.10 RESOLVER.ADR.RecipientNotFound;")
    assert exim.diagnostic.endswith("Recipient address rejected: User unknown")


def test_a_verp_token_names_the_send_and_only_with_our_return_path() -> None:
    message = _read("qmail-verp.eml")

    with_verp = classify(message, "m#1", RETURN_PATH)
    without = classify(message, "m#1")
    elsewhere = classify(message, "m#1", "bounces@example.org")

    assert isinstance(with_verp, Bounce)
    assert with_verp.verp is not None
    assert message_id_prefix(with_verp.verp) == "<2020-11.e85e6cb7e6bd4619bb1d975d1fd650e6@"
    assert isinstance(without, Bounce)
    assert isinstance(elsewhere, Bounce)
    assert without.verp is None
    assert elsewhere.verp is None


@pytest.mark.parametrize("name", sorted(LEFT_ALONE))
def test_what_is_not_a_bounce_is_left_alone_with_its_reason(name: str) -> None:
    found = classify(_read(name), f"mail.mbox#{name}", RETURN_PATH)

    assert isinstance(found, Unrecognised)
    assert (found.source, found.reason) == (f"mail.mbox#{name}", LEFT_ALONE[name])


def test_replies_are_left_alone_though_the_heuristics_would_call_them_bounces() -> None:
    """flufl.bounce's detectors read "colleagues, someone@example.jp, and" as a failure: they
    run only on what comes from a mail system."""
    for name in ("human-reply.eml", "out-of-office.eml"):
        message = _read(name)
        assert all_failures(message)[1], name
        assert isinstance(classify(message, name, RETURN_PATH), Unrecognised)


def test_subjects_of_what_is_left_alone_are_one_clean_line() -> None:
    garbage = classify(_read("garbage-truncated.eml"), "m#1")
    reply = classify(_read("out-of-office.eml"), "m#2")

    assert isinstance(garbage, Unrecognised)
    assert isinstance(reply, Unrecognised)
    assert garbage.subject.startswith("Undelivered Mail")
    assert "\x00" not in garbage.subject
    assert reply.subject == "Out of Office: ILO newsletter: November 2020"


def test_a_delivery_notice_is_not_a_failure() -> None:
    message = _read("postfix-user-unknown.eml", (b"Action: failed", b"Action: delivered"))

    found = classify(message, "m#1")

    assert isinstance(found, Unrecognised)
    assert found.reason == "a delivery notice, not a failure"


@pytest.mark.parametrize(
    ("change", "kind", "status"),
    [
        ((b"Status: 5.1.1", b"Status: 5.2.2"), "soft", "5.2.2"),  # a full mailbox
        ((b"Status: 5.1.1", b"Status: 4.4.7"), "soft", "4.4.7"),  # given up after retrying
        ((b"Status: 5.1.1", b"Status: 5.7.1"), "hard", "5.7.1"),
        ((b"Status: 5.1.1\n", b""), "hard", "5.1.1"),  # read from the Diagnostic-Code
    ],
)
def test_the_status_decides_hard_or_soft(
    change: tuple[bytes, bytes], kind: str, status: str
) -> None:
    found = classify(_read("postfix-user-unknown.eml", change), "m#1")

    assert isinstance(found, Bounce)
    assert (found.kind, found.status) == (kind, status)


def test_in_reply_to_names_the_message_when_nothing_is_quoted() -> None:
    message = _read("gmail-no-such-user.eml")
    parts = message.get_payload()
    assert isinstance(parts, list)
    parts.pop()  # the quoted message
    report = parts[-1]
    assert isinstance(report, Message)
    per_message = report.get_payload(0)
    assert isinstance(per_message, Message)
    del per_message["X-Original-Message-ID"]

    found = classify(message, "m#1")

    assert isinstance(found, Bounce)
    assert found.message_id == _our_id("d841084d95854bae9b779c163b2598c9")


def test_a_complaint_without_original_rcpt_to_names_the_quoted_messages_recipient() -> None:
    change = (b"Original-Rcpt-To: sofia.rossi@yahoo.example\n", b"")
    found = classify(_read("yahoo-arf-complaint.eml", change), "m#1")

    assert isinstance(found, Bounce)
    assert found.addresses == ("sofia.rossi@yahoo.example",)


def test_a_complaint_with_the_address_redacted_is_named_by_its_envelope_sender() -> None:
    """AOL-style: the complainant's address blanked out, the VERP envelope sender kept."""
    token = "2020-11.1952f494312d48788f6fc77f39be92fe"
    message = _read(
        "yahoo-arf-complaint.eml",
        (b"Original-Rcpt-To: sofia.rossi@yahoo.example", b"Original-Rcpt-To: redacted"),
        (b"To: Sofia Rossi <Sofia.Rossi@yahoo.example>", b"To: redacted@yahoo.example"),
        (
            b"Original-Mail-From: <bounces@ilo.org>",
            f"Original-Mail-From: <bounces+{token}@ilo.org>".encode(),
        ),
        (b"Message-ID: <2020-11.1952", b"X-Message-ID: <2020-11.1952"),
    )

    found = classify(message, "m#1", RETURN_PATH)

    assert isinstance(found, Bounce)
    assert (found.kind, found.addresses, found.message_id, found.verp) == (
        "complaint",
        (),
        None,
        token,
    )
    assert classify(message, "m#1") == Unrecognised(
        "m#1", str(message["Subject"]), "names neither a recipient nor the message it answers"
    )


def test_a_feedback_report_that_is_not_a_complaint_is_left_alone() -> None:
    change = (b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    found = classify(_read("yahoo-arf-complaint.eml", change), "m#1")

    assert isinstance(found, Unrecognised)
    assert found.reason == "a feedback report of type 'not-spam', not a complaint"


def test_diagnostics_are_one_line_without_control_characters() -> None:
    noisy = "Diagnostic-Code: smtp; 550 5.1.1 \x1b[31mno\x07 such\x00 user\u2028" + "x" * 1000
    change = (b"Diagnostic-Code: smtp; 550 5.1.1", noisy.encode())

    found = classify(_read("postfix-user-unknown.eml", change), "m#1")

    assert isinstance(found, Bounce)
    assert found.diagnostic.startswith("550 5.1.1 [31mno such user xxx")
    assert len(found.diagnostic) == 300
    _assert_one_clean_line(found.diagnostic)


def _assert_one_clean_line(text: str) -> None:
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text)
    assert text == text.strip()


def _fixture_bytes() -> list[bytes]:
    return [(BOUNCES / name).read_bytes() for name in FIXTURES]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from(_fixture_bytes()),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=12),
)
def test_classify_never_raises_on_mangled_mail(
    data: bytes, cut: float, flips: list[tuple[float, int]]
) -> None:
    mangled = bytearray(data[: int(len(data) * cut)])
    for where, byte in flips:
        if mangled:
            mangled[min(int(where * len(mangled)), len(mangled) - 1)] = byte

    found = classify(_message(bytes(mangled)), "fuzz#1", RETURN_PATH)

    assert isinstance(found, Bounce | Unrecognised)
    if isinstance(found, Bounce):
        assert found.kind in ("hard", "soft", "complaint")
        assert len(found.diagnostic) <= 300
        _assert_one_clean_line(found.diagnostic)
    else:
        assert found.reason
        assert len(found.subject) <= 200
        _assert_one_clean_line(found.subject)


def test_a_message_past_parsing_or_without_headers_is_left_alone(tmp_path: Path) -> None:
    nested = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (n, n + 1) for n in range(5000)
    )
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(b"Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n" + nested)
    maildir.add(b"")

    found = [classify(message, source) for source, message in read_mailbox(tmp_path / "Maildir")]

    reasons = sorted(f.reason for f in found if isinstance(f, Unrecognised))
    assert reasons == ["cannot be parsed (RecursionError)", "no mail headers"]


def test_a_message_too_large_is_read_only_in_part(tmp_path: Path) -> None:
    data = (BOUNCES / "postfix-user-unknown.eml").read_bytes()
    huge = data.replace(b"What's new at the ILO", b"x" * (3 * MAX_MESSAGE_BYTES))
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(huge)

    ((_, message),) = read_mailbox(tmp_path / "Maildir")

    assert len(message.as_bytes()) < MAX_MESSAGE_BYTES + 1024
    found = classify(message, "m#1")
    assert isinstance(found, Bounce)
    assert found.addresses == ("amina.diallo@example.org",)


# Mailboxes


def test_an_mbox_gives_every_message_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for data in _fixture_bytes():
        box.add(data)
    box.close()

    read = list(read_mailbox(path))

    assert [source for source, _ in read] == [f"{path}#{n}" for n in range(1, len(FIXTURES) + 1)]
    for (source, message), name in zip(read, FIXTURES, strict=True):
        assert classify(message, source, RETURN_PATH) == classify(_read(name), source, RETURN_PATH)


def test_a_maildir_gives_every_message_in_new_and_cur_with_its_file(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir")
    for number, data in enumerate(_fixture_bytes()):
        message = mailbox.MaildirMessage(data)
        if number % 2:
            message.set_subdir("cur")
            message.set_flags("S")
        box.add(message)
    (tmp_path / "Maildir" / "tmp" / "1604391262.M1.half-delivered").write_bytes(b"Subject: x")

    read = list(read_mailbox(tmp_path / "Maildir"))

    assert len(read) == len(FIXTURES)
    sources = [Path(source) for source, _ in read]
    assert {source.parent.name for source in sources} == {"new", "cur"}
    assert all(source.is_file() for source in sources)
    subjects = sorted(str(message["Subject"]) for _, message in read)
    assert subjects == sorted(str(_read(name)["Subject"]) for name in FIXTURES)
    kinds = [classify(message, source, RETURN_PATH) for source, message in read]
    assert sum(isinstance(found, Bounce) for found in kinds) == len(EXPECTED)


def test_an_empty_mbox_holds_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.mbox").write_bytes(b"")

    assert list(read_mailbox(tmp_path / "empty.mbox")) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "a folder, but not a Maildir (no cur/ and new/ in it)"),
        (lambda _: None, "no such mailbox"),
        (
            lambda p: p.write_bytes((BOUNCES / "exim-permanent.eml").read_bytes()),
            "not an mbox file (it does not start with a 'From ' line)",
        ),
    ],
    ids=["plain folder", "missing", "one message, not an mbox"],
)
def test_what_is_not_a_mailbox_is_refused_in_one_line(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "bounces"
    make(path)  # type: ignore[operator]

    with pytest.raises(NewsletterError) as raised:
        read_mailbox(path)

    assert raised.value.message == message
    assert raised.value.path == path
    assert "\n" not in str(raised.value)


# IMAP


def test_imap_gives_every_message_and_changes_nothing() -> None:
    with ImapServer(_fixture_bytes()) as server:
        read = list(
            read_imap("127.0.0.1", server.port, server.user, server.password, security="none")
        )

    assert [source for source, _ in read] == [
        f"imap://bounces@127.0.0.1/INBOX#{uid}" for uid in server.uids
    ]
    for (source, message), name in zip(read, FIXTURES, strict=True):
        assert message.as_bytes() == _read(name).as_bytes()
        assert type(classify(message, source, RETURN_PATH)) is type(classify(_read(name), name))
    assert 'EXAMINE "INBOX"' in server.commands
    assert not any(
        c.startswith(("SELECT", "STORE", "UID STORE", "EXPUNGE")) for c in server.commands
    )
    fetches = [c for c in server.commands if c.startswith("UID FETCH")]
    assert len(fetches) == len(FIXTURES)
    assert all("BODY.PEEK[]" in c for c in fetches)
    assert server.commands[-1] == "LOGOUT "


def test_imap_folder_names_are_written_in_modified_utf7() -> None:
    with ImapServer(_fixture_bytes()[:1], folder="R&APw-ckl&AOQ-ufer") as server:
        read = list(
            read_imap(
                "127.0.0.1",
                server.port,
                server.user,
                server.password,
                "Rückläufer",
                security="none",
            )
        )

    assert [source for source, _ in read] == ["imap://bounces@127.0.0.1/Rückläufer#10"]


def test_imap_refuses_a_wrong_password_in_one_line() -> None:
    with ImapServer(_fixture_bytes()) as server, pytest.raises(NewsletterError) as raised:
        list(read_imap("127.0.0.1", server.port, server.user, "wrong", security="none"))

    assert str(raised.value) == (
        "the IMAP server 127.0.0.1 refused the login of bounces: "
        "[AUTHENTICATIONFAILED] Invalid credentials"
    )
    assert not any(c.startswith(("EXAMINE", "UID")) for c in server.commands)


def test_imap_names_a_missing_folder() -> None:
    with ImapServer(_fixture_bytes()) as server, pytest.raises(NewsletterError) as raised:
        list(
            read_imap(
                "127.0.0.1", server.port, server.user, server.password, "Bounces", security="none"
            )
        )

    assert str(raised.value).startswith("no IMAP folder 'Bounces' on 127.0.0.1:")


def test_imap_reports_a_server_that_is_not_there() -> None:
    with ImapServer([]) as server:
        port = server.port  # closed again once the server has stopped

    with pytest.raises(NewsletterError) as raised:
        list(read_imap("127.0.0.1", port, "bounces", "x", security="none", timeout=5))

    assert str(raised.value).startswith(f"cannot connect to the IMAP server 127.0.0.1:{port}: ")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("host", "security", "message"),
    [
        (
            "imap.example.org",
            "none",
            "an IMAP connection without TLS is only for this machine, not imap.example.org: "
            "use security 'ssl' or 'starttls'",
        ),
        ("127.0.0.1", "tls", "IMAP security is 'ssl', 'starttls' or 'none', not 'tls'"),
    ],
)
def test_imap_security_is_checked_before_connecting(host: str, security: str, message: str) -> None:
    with pytest.raises(NewsletterError) as raised:
        read_imap(host, 143, "bounces", "x", security=security)

    assert str(raised.value) == message


def test_imap_starttls_with_a_server_that_offers_none_is_refused() -> None:
    with ImapServer([]) as server, pytest.raises(NewsletterError) as raised:
        list(read_imap("127.0.0.1", server.port, "bounces", "x", security="starttls", timeout=5))

    assert str(raised.value) == (
        f"cannot connect to the IMAP server 127.0.0.1:{server.port}: TLS not supported by server"
    )
