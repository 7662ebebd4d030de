"""The chat protocol core (chat-protocol.md §2–§6): parsing and rendering, both encodings."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from duo.chat.jid import canonical_uuid
from duo.chat.nodes import Node
from duo.chat.protocol import MAX_FRAME_BYTES, Mode, parse, render
from duo.chat.stanzas import (
    AUDIO_PLACEHOLDER_BODY,
    ArchivedMessage,
    AudioMessage,
    Auth,
    AuthFailure,
    AuthSuccess,
    Bind,
    BindResult,
    ChatMessage,
    Displayed,
    Fatal,
    Ignorable,
    Inbound,
    InboxFin,
    InboxQuery,
    InboxResult,
    IncomingMessage,
    IncomingTyping,
    MamFin,
    MamQuery,
    MamResult,
    MessageBlocked,
    MessageDelivered,
    MessageNotUnique,
    MessageTooLong,
    OnlineEvent,
    Outbound,
    Ping,
    Pong,
    RegisterPushToken,
    RegistrationSuccessful,
    ServerError,
    SessionResult,
    SessionStart,
    StreamClose,
    StreamFeatures,
    StreamOpen,
    StreamOpened,
    SubscribeOnline,
    SubscribeSuccessful,
    SubscribeUnsuccessful,
    Typing,
    UnsubscribeOnline,
    UnsubscribeSuccessful,
    UnsubscribeUnsuccessful,
)
from duo.chat.xmlcodec import read_xml

A = "4f1c2b8e-0d3a-4c55-9e21-7a6b5c4d3e2f"
B = "0b6f5c1e-8a9d-4e55-b0a1-3c2d4e5f6a7b"
AJ, BJ = f"{A}@duolicious.app", f"{B}@duolicious.app"
AUDIO = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
CREDENTIALS = "ADRmMWMyYjhlLTBkM2EtNGM1NS05ZTIxLTdhNmI1YzRkM2UyZgBjMGZmZWU="
MAM_ID = "CFU5GNSVL001"  # archive id whose timestamp is 2025-09-27T10:04:09.123456Z
STAMP = "2025-09-27T10:04:09.123456Z"


def sasl(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- inbound: every §3/§5 stanza, the same in both encodings ------------------------------

INBOUND: list[tuple[str, str, Inbound]] = [
    (
        f'<open xmlns="{FRAMING}" to="duolicious.app" version="1.0"/>',
        f'{{"open": {{"@xmlns": "{FRAMING}", "@to": "duolicious.app", "@version": "1.0"}}}}',
        StreamOpen(to="duolicious.app", version="1.0"),
    ),
    (
        f'<auth xmlns="{SASL}" mechanism="PLAIN">{CREDENTIALS}</auth>',
        f'{{"auth": {{"@xmlns": "{SASL}", "@mechanism": "PLAIN", "#text": "{CREDENTIALS}"}}}}',
        Auth(username=A, password="c0ffee"),
    ),
    (
        '<iq xmlns="jabber:client" type="set" id="bind_1"><bind xmlns="urn:ietf:params:xml:ns:'
        'xmpp-bind"><resource>phone</resource></bind></iq>',
        '{"iq": {"@xmlns": "jabber:client", "@type": "set", "@id": "bind_1", "bind": {"@xmlns":'
        ' "urn:ietf:params:xml:ns:xmpp-bind", "resource": "phone"}}}',
        Bind(id="bind_1"),
    ),
    (
        '<iq xmlns="jabber:client" type="set" id="sess_1"><session xmlns="urn:ietf:params:xml:'
        'ns:xmpp-session"/></iq>',
        '{"iq": {"@xmlns": "jabber:client", "@type": "set", "@id": "sess_1", "session": '
        '{"@xmlns": "urn:ietf:params:xml:ns:xmpp-session"}}}',
        SessionStart(id="sess_1"),
    ),
    ("<duo_ping/>", '{"duo_ping": null}', Ping()),
    (
        '<duo_register_push_token token="ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"/>',
        '{"duo_register_push_token": {"@token": "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"}}',
        RegisterPushToken(token="ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"),
    ),
    ("<duo_register_push_token/>", '{"duo_register_push_token": null}',
     RegisterPushToken(token=None)),
    ('<duo_register_push_token token=""/>', '{"duo_register_push_token": {"@token": ""}}',
     RegisterPushToken(token=None)),
    (
        f'<message xmlns="jabber:client" type="chat" to="{BJ}" id="m-17"><body>Hi! Loved your '
        "answer about cats.</body></message>",
        f'{{"message": {{"@xmlns": "jabber:client", "@type": "chat", "@to": "{BJ}", "@id": '
        '"m-17", "body": "Hi! Loved your answer about cats."}}',
        ChatMessage(to=B, id="m-17", body="Hi! Loved your answer about cats."),
    ),
    (
        f'<message xmlns="jabber:client" type="chat" to="{BJ}" id="m-18" '
        'audio_base64="data:audio/mp4;base64,AAAAHGZ0eXBtcDQy..."/>',
        f'{{"message": {{"@xmlns": "jabber:client", "@type": "chat", "@to": "{BJ}", "@id": '
        '"m-18", "@audio_base64": "data:audio/mp4;base64,AAAAHGZ0eXBtcDQy..."}}',
        AudioMessage(to=B, id="m-18", audio_base64="data:audio/mp4;base64,AAAAHGZ0eXBtcDQy..."),
    ),
    (
        f'<message xmlns="jabber:client" type="typing" to="{BJ}" id="t-3"/>',
        f'{{"message": {{"@xmlns": "jabber:client", "@type": "typing", "@to": "{BJ}", '
        '"@id": "t-3"}}',
        Typing(to=B, id="t-3"),
    ),
    (
        '<iq type="set" id="q42"><query xmlns="urn:xmpp:mam:2" queryid="q42"><x xmlns="jabber:'
        'x:data" type="submit"><field var="FORM_TYPE"><value>urn:xmpp:mam:2</value></field>'
        f'<field var="with"><value>{BJ}</value></field></x><set xmlns="http://jabber.org/'
        'protocol/rsm"><max>50</max><before>CFU5GNSVL000</before></set></query></iq>',
        '{"iq": {"@type": "set", "@id": "q42", "query": {"@xmlns": "urn:xmpp:mam:2", '
        '"@queryid": "q42", "x": {"@xmlns": "jabber:x:data", "@type": "submit", "field": '
        '[{"@var": "FORM_TYPE", "value": "urn:xmpp:mam:2"}, {"@var": "with", "value": '
        f'"{BJ}"}}]}}, "set": {{"@xmlns": "http://jabber.org/protocol/rsm", "max": "50", '
        '"before": "CFU5GNSVL000"}}}}',
        MamQuery(query_id="q42", with_person=B, before=int("CFU5GNSVL000", 32), max=50),
    ),
    (
        '<iq type="set" id="k9"><inbox xmlns="erlang-solutions.com:xmpp:inbox:0" '
        'queryid="k9"/></iq>',
        '{"iq": {"@type": "set", "@id": "k9", "inbox": {"@xmlns": '
        '"erlang-solutions.com:xmpp:inbox:0", "@queryid": "k9"}}}',
        InboxQuery(query_id="k9"),
    ),
    (
        f'<message to="{BJ}" from="{AJ}"><displayed xmlns="urn:xmpp:chat-markers:0" '
        'id="m-9"/></message>',
        f'{{"message": {{"@to": "{BJ}", "@from": "{AJ}", "displayed": {{"@xmlns": '
        '"urn:xmpp:chat-markers:0", "@id": "m-9"}}}',
        Displayed(to=B),
    ),
    (f'<duo_subscribe_online uuid="{B}"/>', f'{{"duo_subscribe_online": {{"@uuid": "{B}"}}}}',
     SubscribeOnline(uuid=B, person=B)),
    (f'<duo_unsubscribe_online uuid="{B}"/>',
     f'{{"duo_unsubscribe_online": {{"@uuid": "{B}"}}}}', UnsubscribeOnline(uuid=B, person=B)),
]


@pytest.mark.parametrize(("xml", "json_frame", "stanza"), INBOUND)
def test_every_inbound_stanza_parses_the_same_in_both_encodings(
    xml: str, json_frame: str, stanza: Inbound
) -> None:
    assert parse(xml, "xml") == stanza
    assert parse(json_frame, "json") == stanza


# --- outbound: exact bytes (§3, §5, §6.2, §6.3) -------------------------------------------

_MAM_INNER = (
    f'<message xmlns="jabber:client" from="{BJ}" id="m-9" to="{AJ}" type="chat"><body>hey'
    '</body><request xmlns="urn:xmpp:receipts"/></message>'
)
_INBOX_INNER = (
    f'<message xmlns="jabber:client" from="{BJ}" to="{AJ}" id="m-9" type="chat"><body>hey'
    '</body><request xmlns="urn:xmpp:receipts"/></message>'
)

OUTBOUND: list[tuple[Outbound, str, str]] = [
    (
        StreamOpened(id=B, version="1.0", from_="duolicious.app"),
        f'<open xmlns="{FRAMING}" version="1.0" id="{B}" from="duolicious.app"/>',
        f'{{"open": {{"@xmlns": "{FRAMING}", "@version": "1.0", "@id": "{B}", "@from": '
        '"duolicious.app"}}',
    ),
    (
        StreamFeatures(authenticated=False),
        '<features xmlns="http://etherx.jabber.org/streams"><starttls xmlns="urn:ietf:params:'
        f'xml:ns:xmpp-tls"/><mechanisms xmlns="{SASL}"><mechanism>PLAIN</mechanism>'
        "</mechanisms></features>",
        '{"features": {"@xmlns": "http://etherx.jabber.org/streams", "starttls": {"@xmlns": '
        f'"urn:ietf:params:xml:ns:xmpp-tls"}}, "mechanisms": {{"@xmlns": "{SASL}", '
        '"mechanism": "PLAIN"}}}',
    ),
    (
        StreamFeatures(authenticated=True),
        '<features xmlns="http://etherx.jabber.org/streams"><session xmlns="urn:ietf:params:'
        'xml:ns:xmpp-session"/><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></features>',
        '{"features": {"@xmlns": "http://etherx.jabber.org/streams", "session": {"@xmlns": '
        '"urn:ietf:params:xml:ns:xmpp-session"}, "bind": {"@xmlns": '
        '"urn:ietf:params:xml:ns:xmpp-bind"}}}',
    ),
    (AuthSuccess(), f'<success xmlns="{SASL}"/>', f'{{"success": {{"@xmlns": "{SASL}"}}}}'),
    (
        AuthFailure(),
        f'<failure xmlns="{SASL}"><not-authorized/></failure>',
        f'{{"failure": {{"@xmlns": "{SASL}", "not-authorized": null}}}}',
    ),
    (StreamClose(), "</stream:stream>", '{"stream": null}'),
    (
        BindResult(id="bind_1", person=A),
        '<iq type="result" id="bind_1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>'
        f"{AJ}</jid></bind></iq>",
        '{"iq": {"@type": "result", "@id": "bind_1", "bind": {"@xmlns": '
        f'"urn:ietf:params:xml:ns:xmpp-bind", "jid": "{AJ}"}}}}}}',
    ),
    (SessionResult(id="sess_1"), '<iq type="result" id="sess_1"/>',
     '{"iq": {"@type": "result", "@id": "sess_1"}}'),
    (
        Pong(),
        '<duo_pong preferred_interval="10000" preferred_timeout="5000" />',
        '{"duo_pong": {"@preferred_interval": "10000", "@preferred_timeout": "5000"}}',
    ),
    (RegistrationSuccessful(), "<duo_registration_successful />",
     '{"duo_registration_successful": null}'),
    (MessageDelivered(id="m-17"), '<duo_message_delivered id="m-17"/>',
     '{"duo_message_delivered": {"@id": "m-17"}}'),
    (
        MessageDelivered(id="m-18", audio_uuid=AUDIO),
        f'<duo_message_delivered id="m-18" audio_uuid="{AUDIO}"/>',
        f'{{"duo_message_delivered": {{"@id": "m-18", "@audio_uuid": "{AUDIO}"}}}}',
    ),
    (SubscribeSuccessful(uuid=B), f'<duo_subscribe_successful uuid="{B}" />',
     f'{{"duo_subscribe_successful": {{"@uuid": "{B}"}}}}'),
    (SubscribeUnsuccessful(uuid=B), f'<duo_subscribe_unsuccessful uuid="{B}" />',
     f'{{"duo_subscribe_unsuccessful": {{"@uuid": "{B}"}}}}'),
    (UnsubscribeSuccessful(uuid=B), f'<duo_unsubscribe_successful uuid="{B}" />',
     f'{{"duo_unsubscribe_successful": {{"@uuid": "{B}"}}}}'),
    (UnsubscribeUnsuccessful(uuid=B), f'<duo_unsubscribe_unsuccessful uuid="{B}" />',
     f'{{"duo_unsubscribe_unsuccessful": {{"@uuid": "{B}"}}}}'),
    (
        OnlineEvent(uuid=B, status="online-recently"),
        f'<duo_online_event uuid="{B}" status="online-recently" />',
        f'{{"duo_online_event": {{"@uuid": "{B}", "@status": "online-recently"}}}}',
    ),
    (
        IncomingMessage(sender=A, recipient=B, id="m-17", body="Hi! Loved your answer."),
        f'<message xmlns="jabber:client" from="{AJ}" to="{BJ}" id="m-17" type="chat"><body>'
        'Hi! Loved your answer.</body><request xmlns="urn:xmpp:receipts"/></message>',
        f'{{"message": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{BJ}", "@id": '
        '"m-17", "@type": "chat", "body": "Hi! Loved your answer.", "request": {"@xmlns": '
        '"urn:xmpp:receipts"}}}',
    ),
    (
        IncomingMessage(sender=A, recipient=B, id="m-18", body=AUDIO_PLACEHOLDER_BODY,
                        audio_uuid=AUDIO),
        f'<message xmlns="jabber:client" from="{AJ}" to="{BJ}" id="m-18" type="chat" '
        f'audio_uuid="{AUDIO}"><body>{AUDIO_PLACEHOLDER_BODY}</body><request '
        'xmlns="urn:xmpp:receipts"/></message>',
        f'{{"message": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{BJ}", "@id": '
        f'"m-18", "@type": "chat", "@audio_uuid": "{AUDIO}", "body": "Voice message\\n'
        + "\\u00a0" * 128
        + '\\nUpgrade to the latest version of Duolicious to hear this message", "request": '
        '{"@xmlns": "urn:xmpp:receipts"}}}',
    ),
    (
        IncomingTyping(sender=A, recipient=B, id="t-3"),
        f'<message xmlns="jabber:client" from="{AJ}" to="{BJ}" id="t-3" type="typing"/>',
        f'{{"message": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{BJ}", "@id": '
        '"t-3", "@type": "typing"}}',
    ),
    (
        MamResult(person=A, frame_id="3c9a1f0e-5b7d-4e2a-9c8b-1d2e3f4a5b6c", query_id="q42",
                  archive_id=int(MAM_ID, 32),
                  message=ArchivedMessage(sender=B, recipient=A, id="m-9", body="hey")),
        f'<message xmlns="jabber:client" from="{AJ}" to="{AJ}" id="3c9a1f0e-5b7d-4e2a-9c8b-'
        f'1d2e3f4a5b6c"><result xmlns="urn:xmpp:mam:2" queryid="q42" id="{MAM_ID}"><forwarded '
        f'xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="{STAMP}"/>'
        f"{_MAM_INNER}</forwarded></result></message>",
        f'{{"message": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{AJ}", "@id": '
        '"3c9a1f0e-5b7d-4e2a-9c8b-1d2e3f4a5b6c", "result": {"@xmlns": "urn:xmpp:mam:2", '
        f'"@queryid": "q42", "@id": "{MAM_ID}", "forwarded": {{"@xmlns": "urn:xmpp:forward:0"'
        f', "delay": {{"@xmlns": "urn:xmpp:delay", "@stamp": "{STAMP}"}}, "message": '
        f'{{"@xmlns": "jabber:client", "@from": "{BJ}", "@id": "m-9", "@to": "{AJ}", "@type": '
        '"chat", "body": "hey", "request": {"@xmlns": "urn:xmpp:receipts"}}}}}}',
    ),
    (
        MamFin(person=A, query_id="q42"),
        f'<iq xmlns="jabber:client" from="{AJ}" to="{AJ}" id="q42" type="result"><fin '
        'xmlns="urn:xmpp:mam:2"/></iq>',
        f'{{"iq": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{AJ}", "@id": "q42", '
        '"@type": "result", "fin": {"@xmlns": "urn:xmpp:mam:2"}}}',
    ),
    (
        InboxResult(person=A, query_id="k9", unread=2, timestamp_us=1758967449123456,
                    box="inbox",
                    message=ArchivedMessage(sender=B, recipient=A, id="m-9", body="hey")),
        f'<message xmlns="jabber:client" from="{AJ}" to="{AJ}" id="m-9"><result xmlns='
        '"erlang-solutions.com:xmpp:inbox:0" unread="2" queryid="k9"><forwarded xmlns="urn:'
        f'xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="{STAMP}"/>{_INBOX_INNER}'
        "</forwarded><read>false</read><box>inbox</box><archive>false</archive><mute>0</mute>"
        "</result></message>",
        f'{{"message": {{"@xmlns": "jabber:client", "@from": "{AJ}", "@to": "{AJ}", "@id": '
        '"m-9", "result": {"@xmlns": "erlang-solutions.com:xmpp:inbox:0", "@unread": "2", '
        '"@queryid": "k9", "forwarded": {"@xmlns": "urn:xmpp:forward:0", "delay": {"@xmlns": '
        f'"urn:xmpp:delay", "@stamp": "{STAMP}"}}, "message": {{"@xmlns": "jabber:client", '
        f'"@from": "{BJ}", "@to": "{AJ}", "@id": "m-9", "@type": "chat", "body": "hey", '
        '"request": {"@xmlns": "urn:xmpp:receipts"}}}, "read": "false", "box": "inbox", '
        '"archive": "false", "mute": "0"}}}',
    ),
    (InboxFin(query_id="k9"), '<iq id="k9" type="result"><fin/></iq>',
     '{"iq": {"@id": "k9", "@type": "result", "fin": null}}'),
    (MessageBlocked(id="X", reason="age-verification"),
     '<duo_message_blocked id="X" reason="age-verification"/>',
     '{"duo_message_blocked": {"@id": "X", "@reason": "age-verification"}}'),
    (MessageBlocked(id="X"), '<duo_message_blocked id="X"/>',
     '{"duo_message_blocked": {"@id": "X"}}'),
    (MessageTooLong(id="X"), '<duo_message_too_long id="X"/>',
     '{"duo_message_too_long": {"@id": "X"}}'),
    (MessageBlocked(id="X", reason="offensive"), '<duo_message_blocked id="X" reason="offensive"/>',
     '{"duo_message_blocked": {"@id": "X", "@reason": "offensive"}}'),
    (MessageBlocked(id="X", reason="spam"), '<duo_message_blocked id="X" reason="spam"/>',
     '{"duo_message_blocked": {"@id": "X", "@reason": "spam"}}'),
    (
        MessageBlocked(id="X", reason="rate-limited-1day", subreason="unverified-basics"),
        '<duo_message_blocked id="X" reason="rate-limited-1day" subreason="unverified-basics"/>',
        '{"duo_message_blocked": {"@id": "X", "@reason": "rate-limited-1day", "@subreason": '
        '"unverified-basics"}}',
    ),
    (
        MessageBlocked(id="X", reason="rate-limited-1day", subreason="unverified-photos"),
        '<duo_message_blocked id="X" reason="rate-limited-1day" subreason="unverified-photos"/>',
        '{"duo_message_blocked": {"@id": "X", "@reason": "rate-limited-1day", "@subreason": '
        '"unverified-photos"}}',
    ),
    (MessageBlocked(id="X", reason="rate-limited-1day"),
     '<duo_message_blocked id="X" reason="rate-limited-1day"/>',
     '{"duo_message_blocked": {"@id": "X", "@reason": "rate-limited-1day"}}'),
    (MessageNotUnique(id="X"), '<duo_message_not_unique id="X"/>',
     '{"duo_message_not_unique": {"@id": "X"}}'),
    (ServerError(id="X"), '<duo_server_error id="X"/>', '{"duo_server_error": {"@id": "X"}}'),
]


@pytest.mark.parametrize(("stanza", "xml", "json_frame"), OUTBOUND)
def test_every_outbound_stanza_renders_the_exact_bytes(
    stanza: Outbound, xml: str, json_frame: str
) -> None:
    assert render(stanza, "xml") == xml
    assert render(stanza, "json") == json_frame


def test_the_catalogue_covers_every_stanza_class() -> None:
    assert {type(stanza) for _, _, stanza in INBOUND} == set(Inbound.__args__)
    assert {type(stanza) for stanza, _, _ in OUTBOUND} == set(Outbound.__args__)


def test_json_output_is_ascii_with_non_ascii_escaped() -> None:
    frame = render(IncomingMessage(sender=A, recipient=B, id="é", body="naïve 😀"), "json")
    assert frame.isascii()
    assert '"@id": "\\u00e9"' in frame
    assert '"body": "na\\u00efve \\ud83d\\ude00"' in frame


def test_xml_output_keeps_non_ascii_as_literal_text() -> None:
    frame = render(IncomingMessage(sender=A, recipient=B, id="é", body="naïve 😀"), "xml")
    assert 'id="é"' in frame and "<body>naïve 😀</body>" in frame


# --- escaping of echoed values (decision; §6.4) -------------------------------------------

HOSTILE = 'a"b<c>&d\'e\nf'


@pytest.mark.parametrize("stanza", [
    MessageDelivered(id=HOSTILE), MessageBlocked(id=HOSTILE, reason="spam"),
    MessageTooLong(id=HOSTILE), MessageNotUnique(id=HOSTILE), ServerError(id=HOSTILE),
    SubscribeSuccessful(uuid=HOSTILE), SubscribeUnsuccessful(uuid=HOSTILE),
    UnsubscribeSuccessful(uuid=HOSTILE), UnsubscribeUnsuccessful(uuid=HOSTILE),
    SessionResult(id=HOSTILE), InboxFin(query_id=HOSTILE),
])
def test_echoed_ids_are_escaped_and_read_back_unchanged(stanza: Outbound) -> None:
    xml = render(stanza, "xml")
    assert "<c>" not in xml and '"b' not in xml
    root = read_xml(xml)
    assert isinstance(root, Node)
    assert HOSTILE in root.attrs.values()
    (value,) = json.loads(render(stanza, "json")).values()
    assert HOSTILE in value.values()


def test_message_text_is_escaped() -> None:
    xml = render(IncomingMessage(sender=A, recipient=B, id="m", body="<b>&amp;</b>"), "xml")
    assert "<body>&lt;b&gt;&amp;amp;&lt;/b&gt;</body>" in xml


def test_an_escaped_id_sent_by_a_client_is_echoed_escaped() -> None:
    stanza = parse(f'<message xmlns="jabber:client" type="chat" to="{B}" id="a&amp;&quot;b">'
                   "<body>x</body></message>", "xml")
    assert isinstance(stanza, ChatMessage) and stanza.id == 'a&"b'
    assert render(MessageDelivered(id=stanza.id), "xml") == (
        '<duo_message_delivered id="a&amp;&quot;b"/>'
    )


# --- UUIDs ---------------------------------------------------------------------------------

SPELLINGS = [B.upper(), B.replace("-", ""), "{" + B + "}", "urn:uuid:" + B]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_uuids_are_canonicalised_wherever_they_name_a_person(spelling: str) -> None:
    message = parse(f'{{"message": {{"@xmlns": "jabber:client", "@type": "chat", "@to": '
                    f'"{spelling}@duolicious.app/phone", "@id": "m", "body": "hi"}}}}', "json")
    assert message == ChatMessage(to=B, id="m", body="hi")
    assert parse(f'<message to="{spelling}"><displayed/></message>', "xml") == Displayed(to=B)
    assert parse(f'<duo_subscribe_online uuid="{spelling}"/>', "xml") == SubscribeOnline(
        uuid=spelling, person=B)
    assert parse(f'<duo_unsubscribe_online uuid="{spelling}"/>', "xml") == UnsubscribeOnline(
        uuid=spelling, person=B)
    auth = parse(f'<auth xmlns="{SASL}">{sasl(chr(0) + spelling + chr(0) + "pw")}</auth>', "xml")
    assert auth == Auth(username=B, password="pw")
    query = parse(f'<iq><query queryid="q"><field var="with"><value>{spelling}</value></field>'
                  "</query></iq>", "xml")
    assert isinstance(query, MamQuery) and query.with_person == B


def test_canonical_uuid_refuses_what_is_not_a_uuid() -> None:
    assert canonical_uuid(B) == B
    assert canonical_uuid("not-a-uuid") is None
    assert canonical_uuid("") is None


def test_a_subscription_to_a_non_uuid_keeps_the_echo_without_a_person() -> None:
    assert parse('<duo_subscribe_online uuid="B"/>', "xml") == SubscribeOnline(uuid="B",
                                                                                person=None)


def test_a_message_to_oneself_is_parsed_like_any_other() -> None:
    # rejecting it needs the sender, which only the session knows
    frame = f'<message xmlns="jabber:client" type="chat" to="{AJ}" id="m"><body>me</body></message>'
    assert parse(frame, "xml") == ChatMessage(to=A, id="m", body="me")


# --- authentication ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "",
    "!!!",  # nothing of the alphabet: decodes to nothing
    sasl(f"{A}\0pw"),  # two parts
    sasl(f"\0{A}\0pw\0extra"),  # four parts
    sasl("\0not-a-uuid\0pw"),
    base64.b64encode(b"\0\xff\xfe\0pw").decode(),  # not UTF-8
    "ab=c",  # bad padding
    "ümlaut",  # not ASCII
])
def test_undecodable_credentials_are_an_auth_without_username(text: str) -> None:
    assert parse(f'<auth xmlns="{SASL}" mechanism="PLAIN">{text}</auth>', "xml") == Auth(
        username=None, password="")


def test_base64_decoding_is_lenient_and_the_authzid_is_ignored() -> None:
    encoded = sasl(f"someone\0{A}\0secret")
    spaced = " ".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))
    assert parse(f'<auth xmlns="{SASL}">{spaced}</auth>', "xml") == Auth(username=A,
                                                                          password="secret")


def test_auth_needs_the_sasl_namespace_and_ignores_the_mechanism() -> None:
    assert isinstance(parse(f"<auth>{CREDENTIALS}</auth>", "xml"), Ignorable)
    assert parse(f'<auth xmlns="{SASL}" mechanism="X">{CREDENTIALS}</auth>', "xml") == Auth(
        username=A, password="c0ffee")


# --- §4 dispatch order and match rules -----------------------------------------------------

def test_open_needs_version_and_to() -> None:
    assert isinstance(parse(f'<open xmlns="{FRAMING}" to="duolicious.app"/>', "xml"), Ignorable)
    assert isinstance(parse(f'<open xmlns="{FRAMING}" version="1.0"/>', "xml"), Ignorable)
    assert parse(f'<open xmlns="{FRAMING}" to="" version=""/>', "xml") == StreamOpen(to="",
                                                                                     version="")


def test_bind_wins_over_session_and_a_missing_iq_id_is_default() -> None:
    frame = ('<iq xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/>'
             '<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>')
    assert parse(frame, "xml") == Bind(id="default")


def test_bind_needs_the_client_namespace_on_the_iq() -> None:
    frame = '<iq id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>'
    assert isinstance(parse(frame, "xml"), Ignorable)


def test_an_iq_with_neither_bind_nor_session_falls_through_to_the_inbox() -> None:
    frame = '<iq xmlns="jabber:client" id="x"><inbox queryid="k1"/></iq>'
    assert parse(frame, "xml") == InboxQuery(query_id="k1")


def test_a_namespaced_ping_is_not_a_ping() -> None:
    assert isinstance(parse('<duo_ping xmlns="jabber:client"/>', "xml"), Ignorable)
    assert isinstance(parse('{"duo_ping": {"@xmlns": "x"}}', "json"), Ignorable)


def test_the_mam_query_wins_over_a_message_carrying_one() -> None:
    frame = (f'<message xmlns="jabber:client" type="chat" to="{BJ}" id="m"><body>b</body>'
             f'<query queryid="q"><field var="with"><value>{BJ}</value></field></query>'
             "</message>")
    assert parse(frame, "xml") == MamQuery(query_id="q", with_person=B, before=None, max=50)


def test_a_displayed_marker_wins_over_the_message_handler() -> None:
    frame = (f'<message xmlns="jabber:client" type="chat" to="{BJ}" id="m"><body>b</body>'
             "<displayed/></message>")
    assert parse(frame, "xml") == Displayed(to=B)


def test_a_displayed_marker_without_to_falls_through_and_is_ignored() -> None:
    frame = '<message xmlns="jabber:client"><displayed id="m-9"/></message>'
    assert isinstance(parse(frame, "xml"), Ignorable)


def test_a_displayed_marker_to_a_non_uuid_is_ignored() -> None:
    assert isinstance(parse('<message to="bob@x"><displayed/></message>', "xml"), Ignorable)


@pytest.mark.parametrize("frame", [
    "<presence/>", "<close/>", '<enable xmlns="urn:xmpp:sm:3"/>', "<duo_subscribe_online/>",
    '<duo_unsubscribe_online uuid=""/>', '<inbox queryid=""/>', "<iq><inbox/></iq>",
    '<message to="x"><body>hi</body></message>',  # no jabber:client: not a chat message
])
def test_anything_else_is_ignored(frame: str) -> None:
    assert isinstance(parse(frame, "xml"), Ignorable)


# --- §5.3 messages -------------------------------------------------------------------------

def message(attrs: str, children: str = "<body>hi</body>") -> str:
    return f'<message xmlns="jabber:client" {attrs}>{children}</message>'


@pytest.mark.parametrize("frame", [
    message('type="chat" id="m"'),  # no to
    message('type="chat" to="bob@duolicious.app" id="m"'),  # to is not a UUID
    message(f'type="chat" to="@{B}" id="m"'),  # nothing before the @
    message(f'type="chat" to="{BJ}"'),  # no id
    message(f'type="chat" to="{BJ}" id=""'),
    message(f'type="chat" to="{BJ}" id="{"x" * 251}"'),
    message(f'to="{BJ}" id="m"'),  # no type
    message(f'type="normal" to="{BJ}" id="m"'),
    message(f'type="chat" to="{BJ}" id="m"', ""),  # no body
    message(f'type="chat" to="{BJ}" id="m"', "<body> \n\t </body>"),
    message(f'type="chat" to="{BJ}" id="m"', '<body xmlns="other">hi</body>'),
])
def test_unusable_messages_are_ignored_not_fatal(frame: str) -> None:
    assert isinstance(parse(frame, "xml"), Ignorable)


def test_a_250_character_id_is_accepted() -> None:
    frame = message(f'type="chat" to="{BJ}" id="{"x" * 250}"')
    assert parse(frame, "xml") == ChatMessage(to=B, id="x" * 250, body="hi")


def test_the_body_is_stripped_and_ends_at_its_first_child() -> None:
    frame = message(f'type="chat" to="{BJ}" id="m"', "<body>  hi <b>bold</b> tail</body>")
    assert parse(frame, "xml") == ChatMessage(to=B, id="m", body="hi")


def test_a_long_body_is_kept_for_the_pipeline_to_reject() -> None:
    frame = message(f'type="chat" to="{BJ}" id="m"', f"<body>{'x' * 5001}</body>")
    stanza = parse(frame, "xml")
    assert isinstance(stanza, ChatMessage) and len(stanza.body) == 5001


def test_audio_wins_over_a_body_and_extra_attributes_are_ignored() -> None:
    frame = message(f'type="chat" to="{BJ}" id="m" audio_base64="QUJD" check_uniqueness="x"')
    assert parse(frame, "xml") == AudioMessage(to=B, id="m", audio_base64="QUJD")


def test_an_empty_audio_attribute_is_a_text_message() -> None:
    frame = message(f'type="chat" to="{BJ}" id="m" audio_base64=""')
    assert parse(frame, "xml") == ChatMessage(to=B, id="m", body="hi")


# --- §5.4 MAM paging -----------------------------------------------------------------------

def mam(set_children: str, with_value: str = BJ) -> str:
    return (f'<iq type="set" id="q"><query xmlns="urn:xmpp:mam:2" queryid="q1"><x><field '
            f'var="with"><value>{with_value}</value></field></x><set>{set_children}</set>'
            "</query></iq>")


@pytest.mark.parametrize(("children", "before", "max"), [
    ("", None, 50),
    ("<max></max><before></before>", None, 50),
    ("<max>0</max>", None, 0),
    ("<max>7</max>", None, 7),
    ("<max>500</max>", None, 50),
    ("<before>cfu5gnsvl000</before>", int("CFU5GNSVL000", 32), 50),
    ("<before>0</before><after>ZZ</after><index>3</index>", 0, 50),
])
def test_mam_paging_fields(children: str, before: int | None, max: int) -> None:
    assert parse(mam(children), "xml") == MamQuery(query_id="q1", with_person=B, before=before,
                                                   max=max)


@pytest.mark.parametrize("children", [
    "<before>W</before>", "<before>1-2</before>", "<max>-1</max>", "<max>ten</max>",
    "<max>1.5</max>",
])
def test_bad_mam_paging_is_ignored_not_fatal(children: str) -> None:
    assert isinstance(parse(mam(children), "xml"), Ignorable)


def test_a_mam_query_with_a_non_uuid_party_still_parses_for_an_empty_page() -> None:
    assert parse(mam("", "bob@duolicious.app"), "xml") == MamQuery(
        query_id="q1", with_person=None, before=None, max=50)


def test_a_mam_query_needs_a_queryid_and_a_with_value_below_the_root() -> None:
    assert isinstance(parse(mam("", ""), "xml"), Ignorable)
    root_query = f'<query queryid="q"><field var="with"><value>{B}</value></field></query>'
    assert isinstance(parse(root_query, "xml"), Ignorable)
    assert isinstance(parse(f"<iq><query><field var='with'><value>{B}</value></field></query>"
                            "</iq>", "xml"), Ignorable)


def test_the_first_query_with_a_queryid_and_the_first_with_field_count() -> None:
    frame = (f'<iq><query/><query queryid="second"><field var="FORM_TYPE"><value>x</value>'
             f'</field><field var="with"><value>{B}</value></field><field var="with"><value>'
             f"{A}</value></field></query></iq>")
    assert parse(frame, "xml") == MamQuery(query_id="second", with_person=B, before=None,
                                           max=50)


# --- frames that are not stanzas -----------------------------------------------------------

@pytest.mark.parametrize("frame", [
    "", "not xml", "<a/><b/>", "<a>", '<?xml version="1.0" encoding="UTF-8"?><duo_ping/>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><duo_ping>&lol2;</duo_ping>',
    '<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><duo_ping/>', "<duo_ping>&ent;</duo_ping>",
    "<p:duo_ping/>", "<duo_ping>\0</duo_ping>", "<duo_ping>\ud800</duo_ping>",
    "<a>" + "<b/>" * 300 + "</a>",
])
def test_malformed_or_unsafe_xml_is_ignored(frame: str) -> None:
    assert isinstance(parse(frame, "xml"), Ignorable)


def test_an_xml_declaration_without_encoding_is_accepted() -> None:
    assert parse('<?xml version="1.0"?><duo_ping/>', "xml") == Ping()


def test_deep_nesting_is_handled_without_recursion() -> None:
    deep = "<a>" * 200 + "</a>" * 200
    assert isinstance(parse(f"<iq>{deep}</iq>", "xml"), Ignorable)
    assert isinstance(parse('{"iq": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001, "json"),
                      Ignorable)


@pytest.mark.parametrize("frame", [
    "", "nope", "[1]", '"duo_ping"', "3", "null", "{}", '{"duo_ping": null, "x": 1}',
    '{"duo_ping": [null, null]}',  # two roots
    '{"bad name": null}', '{"@duo_ping": null}', '{"p:duo_ping": null}',
    '{"duo_ping": {"@p:a": "1"}}', '{"duo_ping": {"a b": "1"}}',
    '{"duo_ping": {"@a": {"x": 1}}}', '{"duo_ping": {"a": [[1]]}}',
    '{"duo_ping": "\\u0001"}', '{"duo_ping": {"@xmlns:p": ""}}',
    '{"a": [' + ", ".join(["{}"] * 300) + "]}",
])
def test_json_that_maps_to_no_well_formed_xml_is_ignored(frame: str) -> None:
    assert isinstance(parse(frame, "json"), Ignorable)


def test_json_namespaces_scalars_and_text_follow_the_xml_mapping() -> None:
    # a declared prefix resolves like XML's; numbers and booleans are stringified
    frame = ('{"c:message": {"@xmlns:c": "jabber:client", "@type": "chat", "@to": "' + B
             + '", "@id": 17, "c:body": true}}')
    assert parse(frame, "json") == ChatMessage(to=B, id="17", body="true")
    # the default namespace is inherited by children, so body is in jabber:client
    frame = ('{"message": {"@xmlns": "jabber:client", "@type": "chat", "@to": "' + B
             + '", "@id": "m", "body": {"#text": " hi\\r\\nthere "}}}')
    assert parse(frame, "json") == ChatMessage(to=B, id="m", body="hi\nthere")
    # with children, #text is written after them: it is not the element's text
    frame = ('{"message": {"@xmlns": "jabber:client", "@type": "chat", "@to": "' + B
             + '", "@id": "m", "body": {"#text": "hi", "b": "x"}}}')
    assert isinstance(parse(frame, "json"), Ignorable)
    # an empty array writes no child, so #text stays the element's text
    frame = ('{"message": {"@xmlns": "jabber:client", "@type": "chat", "@to": "' + B
             + '", "@id": "m", "body": {"#text": "hi", "b": []}}}')
    assert parse(frame, "json") == ChatMessage(to=B, id="m", body="hi")


def test_an_oversize_frame_is_fatal() -> None:
    assert isinstance(parse("x" * (MAX_FRAME_BYTES + 1), "xml"), Fatal)
    assert isinstance(parse("é" * (MAX_FRAME_BYTES // 2 + 1), "json"), Fatal)
    assert not isinstance(parse("é" * (MAX_FRAME_BYTES // 2), "json"), Fatal)


# --- properties ----------------------------------------------------------------------------

# Characters XML can carry (no surrogates, no C0 controls but tab/newline/return).
xml_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"])
xml_text = st.text(xml_chars, max_size=40)
names = st.sampled_from(["message", "iq", "query", "field", "value", "body", "duo_ping",
                         "auth", "open", "inbox", "displayed", "before", "max", "x", "p:x",
                         "duo_subscribe_online", "bind", "session", "@to", "bad name"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        names | st.sampled_from(["@xmlns", "@id", "@type", "@queryid", "@var", "#text",
                                 "@uuid", "@xmlns:p"]) | st.text(max_size=5),
        inner, max_size=4),
    max_leaves=12,
)
OUTCOMES = (*Inbound.__args__, Ignorable, Fatal)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(["xml", "json"]))
def test_any_text_frame_parses_or_is_classified(frame: str, mode: Mode) -> None:
    assert isinstance(parse(frame, mode), OUTCOMES)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(names, json_values, min_size=1, max_size=2))
def test_any_json_object_parses_or_is_classified(value: dict[str, Any]) -> None:
    assert isinstance(parse(json.dumps(value), "json"), OUTCOMES)


@st.composite
def xml_frames(draw: st.DrawFn) -> str:
    """Element soup from stanza vocabulary, with attributes and text that may be hostile."""
    def element(depth: int) -> str:
        name = draw(st.sampled_from(["message", "iq", "query", "field", "value", "body",
                                     "duo_ping", "auth", "inbox", "displayed", "max",
                                     "before", "open", "bind"]))
        attrs = draw(st.dictionaries(
            st.sampled_from(["xmlns", "to", "id", "type", "queryid", "var", "uuid", "version",
                             "audio_base64", "token"]),
            st.sampled_from(["jabber:client", B, BJ, "with", "chat", "typing", "q", "", "-1",
                             "urn:ietf:params:xml:ns:xmpp-framing"]) | xml_text,
            max_size=4))
        text = draw(st.sampled_from(["", "hi", "50", "CFU5", "&amp;", "<", "&lt;"]) | xml_text)
        children = "".join(element(depth + 1) for _ in range(
            draw(st.integers(0, 3 if depth < 2 else 0))))
        rendered = "".join(f' {key}="{value}"' for key, value in attrs.items())
        return f"<{name}{rendered}>{text}{children}</{name}>"
    return element(0)


@settings(max_examples=150, deadline=None)
@given(xml_frames())
def test_any_xml_like_frame_parses_or_is_classified(frame: str) -> None:
    assert isinstance(parse(frame, "xml"), OUTCOMES)


people = st.uuids().map(str)
ids = st.text(xml_chars, min_size=1, max_size=250)


@settings(max_examples=200, deadline=None)
@given(people, people, ids, st.text(xml_chars, max_size=300), st.sampled_from(["xml", "json"]))
def test_a_delivered_message_reads_back_as_the_message_sent(
    sender: str, recipient: str, id: str, body: str, mode: Mode
) -> None:
    sent = render(IncomingMessage(sender=sender, recipient=recipient, id=id, body=body), mode)
    stripped = body.strip()
    if mode == "json":  # JSON text goes through XML, which reads every line end as \n
        stripped = stripped.replace("\r\n", "\n").replace("\r", "\n").strip()
    expected = ChatMessage(to=recipient, id=id, body=stripped) if stripped else None
    received = parse(sent, mode)
    if expected is None:
        assert isinstance(received, Ignorable)
    else:
        assert received == expected


@settings(max_examples=100, deadline=None)
@given(people, people, ids, st.sampled_from(["xml", "json"]))
def test_a_typing_indicator_reads_back_as_sent(
    sender: str, recipient: str, id: str, mode: Mode
) -> None:
    sent = render(IncomingTyping(sender=sender, recipient=recipient, id=id), mode)
    assert parse(sent, mode) == Typing(to=recipient, id=id)


@settings(max_examples=200, deadline=None)
@given(st.text(xml_chars))
def test_any_echoed_value_renders_to_xml_that_reads_back(value: str) -> None:
    for stanza in (SubscribeSuccessful(uuid=value), MessageBlocked(id=value, reason="spam")):
        root = read_xml(render(stanza, "xml"))
        assert isinstance(root, Node) and value in root.attrs.values()
        assert render(stanza, "json").isascii()


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_mam_result_ids_are_the_before_values_that_page_back(archive_id: int) -> None:
    result = render(MamResult(person=A, frame_id=B, query_id="q", archive_id=archive_id,
                              message=ArchivedMessage(B, A, "m", "hey")), "xml")
    root = read_xml(result)
    assert isinstance(root, Node)
    (result_element,) = root.children
    query = parse(mam(f"<before>{result_element.attrs['id']}</before>"), "xml")
    assert isinstance(query, MamQuery) and query.before == archive_id


# --- JSON mode agrees with the reference path: xmltodict's XML, read as XML (§2.2) ----------

json_scalars = st.none() | st.booleans() | st.integers() | st.sampled_from([
    B, BJ, B.upper(), "jabber:client", "chat", "typing", "with", "50", "-1", "CFU5GNSVL000", "q",
    "", " hi ", "a\r\nb", "\x01", SASL, FRAMING, "urn:ietf:params:xml:ns:xmpp-bind",
    CREDENTIALS, "<&>\"'",
]) | st.text(max_size=8)
element_names = st.sampled_from([
    "message", "iq", "query", "x", "field", "value", "set", "body", "before", "max", "inbox",
    "displayed", "duo_ping", "duo_register_push_token", "duo_subscribe_online", "auth", "open",
    "bind", "session", "p:body", "q:x",
]) | st.text(alphabet="abz_-.:@#1 ", min_size=1, max_size=4).filter(
    lambda name: not name.startswith(("@", "#")))  # those keys are attributes and text
attribute_names = st.sampled_from([
    "@xmlns", "@to", "@id", "@type", "@queryid", "@var", "@uuid", "@token", "@version",
    "@audio_base64", "@xmlns:p", "@p:id", "@xml:lang", "@q:x", "@", "@a b",
])


@st.composite
def json_contents(draw: st.DrawFn, depth: int = 0) -> Any:
    """An element's JSON value: a scalar, or attributes, text and children (lists of
    elements); no object-valued attributes or arrays in arrays, where the reference's
    library writes Python reprs into the XML (this side ignores such frames)."""
    if depth > 3 or draw(st.booleans()):
        return draw(json_scalars)
    content: dict[str, Any] = {}
    for name in draw(st.lists(attribute_names, max_size=4)):
        content[name] = draw(json_scalars)
    if draw(st.booleans()):
        content["#text"] = draw(json_scalars)
    for name in draw(st.lists(element_names, max_size=3)):
        if draw(st.booleans()):
            content[name] = [draw(json_contents(depth + 1)) for _ in range(draw(st.integers(0, 2)))]
        else:
            content[name] = draw(json_contents(depth + 1))
    return content


def outcome(result: object) -> object:
    return "ignored" if isinstance(result, Ignorable) else result


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """A JSON value with some of its keys dropped, replaced or added (attribute values stay
    scalars: for objects there the reference writes a Python repr, this side ignores)."""
    if not isinstance(value, dict) or depth > 4:
        return draw(json_contents(depth)) if draw(st.integers(0, 9)) == 0 else value
    result: dict[str, Any] = {}
    for key, item in value.items():
        choice = draw(st.integers(0, 19))
        if choice == 0:
            continue  # dropped
        if choice == 1 or key.startswith(("@", "#")):  # values of attributes stay scalars
            result[key] = draw(json_scalars) if choice < 3 else item
        elif isinstance(item, list):
            result[key] = [draw(mutated(one, depth + 1)) for one in item]
        else:
            result[key] = draw(mutated(item, depth + 1))
    if draw(st.integers(0, 9)) == 0:
        result[draw(attribute_names)] = draw(json_scalars)
    if draw(st.integers(0, 9)) == 0:
        result[draw(element_names)] = draw(json_contents(depth + 1))
    return result


EXAMPLES = [json.loads(json_frame) for _, json_frame, _ in INBOUND]


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.builds(lambda name, content: {name: content}, element_names, json_contents()),
                 st.sampled_from(EXAMPLES).flatmap(mutated)))
def test_json_mode_reads_what_the_reference_xml_mapping_reads(value: dict[str, Any]) -> None:
    try:
        xml = xmltodict.unparse(value, full_document=False)
    except ValueError:  # e.g. invalid names, or an array as root: several roots
        expected: object = "ignored"
    else:
        expected = outcome(parse(xml, "xml"))
    assert outcome(parse(json.dumps(value), "json")) == expected
