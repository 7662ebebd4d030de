"""Chat end to end: real WebSocket clients over loopback against the chat listeners, real
PostgreSQL behind them, people created with tests/factories.py (chat-protocol §3–§8)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from duo.chat.archive import encode_inbox_content
from duo.chat.server import run_chat
from duo.chat.session import MAILBOX_CAPACITY
from duo.chat.stanzas import AUDIO_PLACEHOLDER_BODY, ArchivedMessage
from duo.config import Config
from duo.services import Services
from tests.chat_client import connect, free_port, plain, signed_in
from tests.factories import User, onboarded_user
from tests.plugins import app as app_plugin
from tests.plugins.expo import FakeExpo, pushing_to
from tests.test_media_audio import b64, sine

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return app_plugin.test_config(tmp_path, DUO_CHAT_PORTS=str(free_port()), DUO_CHAT_HOST="127.0.0.1")


@attrs.frozen
class Chat:
    url: str
    shutdown: trio.Event


@asynccontextmanager
async def serving(svc: Services) -> AsyncIterator[Chat]:
    """Chat served for ``svc`` on its own port, stopped (1001 to everyone) afterwards."""
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(run_chat, svc, shutdown)
        try:
            yield Chat(binds[0].replace("0.0.0.0", "127.0.0.1"), shutdown)
        finally:
            shutdown.set()


@pytest.fixture
async def chat(svc: Services) -> AsyncIterator[Chat]:
    async with serving(svc) as served:
        yield served


@pytest.fixture
async def people(svc: Services) -> tuple[User, User]:
    return await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob", gender="Man")


def jid(user: User) -> str:
    return f"{user.uuid}@duolicious.app"


def incoming(sender: User, recipient: User, id: str, body: str) -> dict[str, Any]:
    return {
        "message": {
            "@xmlns": "jabber:client",
            "@from": jid(sender),
            "@to": jid(recipient),
            "@id": id,
            "@type": "chat",
            "body": body,
            "request": {"@xmlns": "urn:xmpp:receipts"},
        }
    }


async def test_login_ping_and_failed_auth_closes_1008(chat: Chat, people: tuple[User, User], svc: Services) -> None:
    alice, _ = people
    with trio.fail_after(30):
        async with connect(chat.url) as client:
            await client.next_is_pong()  # ping works before auth
            await client.login(alice)
            await client.next_is_pong()
        async with connect(chat.url) as client:
            await client.send({"auth": {"@xmlns": SASL, "@mechanism": "PLAIN", "#text": plain(str(alice.uuid), "wrong")}})
            assert await client.receive() == {"failure": {"@xmlns": SASL, "not-authorized": None}}
            assert await client.receive() == {"stream": None}
            assert await client.closed_with() == 1008
        # a session that has not confirmed its OTP does not log in to chat
        pending = await onboarded_user(svc, "Pending", signed_in=False)
        async with connect(chat.url) as client:
            await client.send({"auth": {"@xmlns": SASL, "#text": plain(str(pending.uuid), pending.token)}})
            assert "failure" in await client.receive()
            assert await client.closed_with() == 1008


async def test_intro_reply_inbox_displayed_and_history(chat: Chat, people: tuple[User, User]) -> None:
    alice, bob = people
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a, signed_in(chat.url, bob) as b:
            await a.message(bob, "m-1", "Hi! Loved your answer about cats.")
            assert await a.receive() == {"duo_message_delivered": {"@id": "m-1"}}
            assert await b.receive() == incoming(alice, bob, "m-1", "Hi! Loved your answer about cats.")

            await b.message(alice, "m-2", "Thanks, dogs too")
            assert await b.receive() == {"duo_message_delivered": {"@id": "m-2"}}
            assert await a.receive() == incoming(bob, alice, "m-2", "Thanks, dogs too")
            for n in range(3, 6):
                await a.message(bob, f"m-{n}", f"message {n}")
                assert await a.receive() == {"duo_message_delivered": {"@id": f"m-{n}"}}
                assert (await b.receive())["message"]["@id"] == f"m-{n}"

            # Bob's inbox: one conversation in chats; his reply reset his unread count, 3 since
            await b.send({"iq": {"@type": "set", "@id": "k9", "inbox": {"@xmlns": "erlang-solutions.com:xmpp:inbox:0", "@queryid": "k9"}}})
            *results, fin = await b.receive_until("iq")
            assert fin == {"iq": {"@id": "k9", "@type": "result", "fin": None}}
            (result,) = results
            inner = result["message"]["result"]
            assert (inner["@unread"], inner["box"], inner["read"]) == ("3", "chats", "false")
            assert inner["forwarded"]["message"]["body"] == "message 5"
            assert result["message"]["@id"] == "m-5"

            # displayed clears Bob's unread count (no reply; the next pong proves it was handled)
            await b.send({"message": {"@to": jid(alice), "displayed": {"@xmlns": "urn:xmpp:chat-markers:0", "@id": "m-5"}}})
            await b.next_is_pong()
            await b.send({"iq": {"@type": "set", "@id": "k10", "inbox": {"@queryid": "k10"}}})
            *results, _ = await b.receive_until("iq")
            assert results[0]["message"]["result"]["@unread"] == "0"

            # history pages of two, newest page first, each oldest first
            ids: list[str] = []
            before = ""
            while True:
                await a.send(mam_query("q1", bob, max="2", before=before))
                *page, fin = await a.receive_until("iq")
                assert fin["iq"]["fin"] == {"@xmlns": "urn:xmpp:mam:2"} and fin["iq"]["@id"] == "q1"
                if not page:
                    break
                ids = [m["message"]["result"]["forwarded"]["message"]["@id"] for m in page] + ids
                before = page[0]["message"]["result"]["@id"]
            assert ids == ["m-1", "m-2", "m-3", "m-4", "m-5"]


def mam_query(query_id: str, other: User, *, max: str, before: str) -> dict[str, Any]:
    return {
        "iq": {
            "@type": "set",
            "@id": query_id,
            "query": {
                "@xmlns": "urn:xmpp:mam:2",
                "@queryid": query_id,
                "x": {
                    "@xmlns": "jabber:x:data",
                    "@type": "submit",
                    "field": [
                        {"@var": "FORM_TYPE", "value": "urn:xmpp:mam:2"},
                        {"@var": "with", "value": jid(other)},
                    ],
                },
                "set": {"@xmlns": "http://jabber.org/protocol/rsm", "max": max, "before": before},
            },
        }
    }


async def test_xml_mode_session_talks_to_a_json_client(chat: Chat, people: tuple[User, User]) -> None:
    alice, bob = people
    with trio.fail_after(60):
        async with connect(chat.url, "xml") as a, signed_in(chat.url, bob) as b:
            assert a.ws.subprotocol == "xmpp"
            await a.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="duolicious.app" version="1.0"/>')
            assert (await a.receive()).startswith('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" version="1.0" id="')
            assert "<mechanism>PLAIN</mechanism>" in await a.receive()
            await a.send(f'<auth xmlns="{SASL}" mechanism="PLAIN">{plain(str(alice.uuid), alice.token)}</auth>')
            assert await a.receive() == f'<success xmlns="{SASL}"/>'
            await a.send('<iq xmlns="jabber:client" type="set" id="bind_1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>phone</resource></bind></iq>')
            assert await a.receive() == f'<iq type="result" id="bind_1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>{jid(alice)}</jid></bind></iq>'
            await a.send('<iq xmlns="jabber:client" type="set" id="sess_1"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>')
            assert await a.receive() == '<iq type="result" id="sess_1"/>'
            await a.send(f'<message xmlns="jabber:client" type="chat" to="{jid(bob)}" id="x-1"><body>hello &amp; welcome</body></message>')
            assert await a.receive() == '<duo_message_delivered id="x-1"/>'
            assert await b.receive() == incoming(alice, bob, "x-1", "hello & welcome")
            await b.message(alice, "j-1", "hi <there>")
            assert await b.receive() == {"duo_message_delivered": {"@id": "j-1"}}
            assert await a.receive() == (
                f'<message xmlns="jabber:client" from="{jid(bob)}" to="{jid(alice)}" id="j-1" type="chat">'
                '<body>hi &lt;there&gt;</body><request xmlns="urn:xmpp:receipts"/></message>'
            )
        # no subprotocol at all is XML mode too
        async with connect(chat.url, "xml", protocols=[]) as c:
            await c.send("<duo_ping/>")
            assert await c.receive() == '<duo_pong preferred_interval="10000" preferred_timeout="5000" />'


async def test_typing_and_online_status(chat: Chat, people: tuple[User, User]) -> None:
    alice, bob = people
    with trio.fail_after(60):
        async with signed_in(chat.url, bob) as b:
            async with signed_in(chat.url, alice) as a:
                await b.send({"duo_subscribe_online": {"@uuid": str(alice.uuid)}})
                assert await b.receive() == {"duo_subscribe_successful": {"@uuid": str(alice.uuid)}}
                assert await b.receive() == {"duo_online_event": {"@uuid": str(alice.uuid), "@status": "online"}}
                await a.send({"message": {"@xmlns": "jabber:client", "@type": "typing", "@to": jid(bob), "@id": "t-3"}})
                assert await b.receive() == {
                    "message": {"@xmlns": "jabber:client", "@from": jid(alice), "@to": jid(bob), "@id": "t-3", "@type": "typing"}
                }
            assert await b.receive() == {"duo_online_event": {"@uuid": str(alice.uuid), "@status": "online-recently"}}
            await b.send({"duo_unsubscribe_online": {"@uuid": str(alice.uuid)}})
            assert await b.receive() == {"duo_unsubscribe_successful": {"@uuid": str(alice.uuid)}}
            async with signed_in(chat.url, alice):
                await b.next_is_pong()  # unsubscribed: no online event came before the pong
            unknown = "00000000-0000-4000-8000-000000000000"
            await b.send({"duo_subscribe_online": {"@uuid": unknown}})
            assert await b.receive() == {"duo_subscribe_unsuccessful": {"@uuid": unknown}}
            await b.send({"duo_subscribe_online": {"@uuid": "not-a-uuid"}})
            assert await b.receive() == {"duo_subscribe_unsuccessful": {"@uuid": "not-a-uuid"}}


async def test_rejections(chat: Chat, people: tuple[User, User], svc: Services) -> None:
    alice, bob = people
    carol = await onboarded_user(svc, "Carol")
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a, signed_in(chat.url, carol) as c:
            await a.message(bob, "long", "x" * 5001)
            assert await a.receive() == {"duo_message_too_long": {"@id": "long"}}
            await a.message(bob, "rude", "you are a whore")
            assert await a.receive() == {"duo_message_blocked": {"@id": "rude", "@reason": "offensive"}}
            await a.message(bob, "spam", "You should join discord.gg/spaghetti")
            assert await a.receive() == {"duo_message_blocked": {"@id": "spam", "@reason": "spam"}}
            await a.message(bob, "first", "Do you like hiking in the mountains?")
            assert await a.receive() == {"duo_message_delivered": {"@id": "first"}}
            await c.message(bob, "copy", "Do you like hiking in the mountains??")
            assert await c.receive() == {"duo_message_not_unique": {"@id": "copy"}}

            # Bob blocks Carol: her messages and typing are refused without a reason
            await svc.db.execute(
                "INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2)", bob.person_id, carol.person_id
            )
            await c.message(bob, "blocked", "hello?")
            assert await c.receive() == {"duo_message_blocked": {"@id": "blocked"}}
            await c.send({"message": {"@xmlns": "jabber:client", "@type": "typing", "@to": jid(bob), "@id": "t-1"}})
            assert await c.receive() == {"duo_message_blocked": {"@id": "t-1"}}

            # Alice has started 10 conversations today: at level 1 the next intro is refused
            others = [await onboarded_user(svc, f"P{n}") for n in range(9)]
            await svc.db.execute(
                "INSERT INTO messaged (subject_person_id, object_person_id) SELECT $1, unnest($2::int[])",
                alice.person_id,
                [o.person_id for o in others],
            )
            dave = await onboarded_user(svc, "Dave")
            await a.message(dave, "limit", "A brand new question for you")
            assert await a.receive() == {
                "duo_message_blocked": {"@id": "limit", "@reason": "rate-limited-1day", "@subreason": "unverified-basics"}
            }


async def test_bad_frames_are_ignored_and_binary_closes(chat: Chat, people: tuple[User, User]) -> None:
    alice, bob = people
    with trio.fail_after(30):
        async with signed_in(chat.url, alice) as a:
            for frame in ("not json", "[]", '"x"', "null", "{}", '{"a": 1, "b": 2}', '{"presence": null}',
                          '{"message": {"@xmlns": "jabber:client", "@type": "chat", "@id": "m", "body": "no to"}}',
                          '{"message": {"@xmlns": "jabber:client", "@type": "chat", "@to": "nobody", "@id": "m", "body": "x"}}'):
                await a.ws.send_message(frame)
            await a.next_is_pong()
            await a.message(bob, "still-ok", "the connection survived")
            assert await a.receive() == {"duo_message_delivered": {"@id": "still-ok"}}
            await a.ws.send_message(b"\x00binary")
            assert await a.closed_with() == 1003


async def test_deleting_the_account_ends_its_chat_sessions(
    chat: Chat, people: tuple[User, User], client: httpx.AsyncClient
) -> None:
    alice, _ = people
    with trio.fail_after(30):
        async with signed_in(chat.url, alice) as a:
            r = await client.delete("/account", headers=alice.headers)
            assert r.status_code == 200, r.text
            assert await a.closed_with() == 1008


async def test_shutdown_closes_sessions_with_1001(chat: Chat, people: tuple[User, User]) -> None:
    alice, _ = people
    with trio.fail_after(30):
        async with signed_in(chat.url, alice) as a:
            chat.shutdown.set()
            assert await a.closed_with() == 1001


async def test_push_token_registration_and_an_immediate_push(
    svc: Services, people: tuple[User, User], expo: FakeExpo
) -> None:
    alice, bob = people
    with trio.fail_after(60):
        async with pushing_to(svc, expo), serving(svc) as chat, signed_in(chat.url, alice) as a, signed_in(chat.url, bob) as b:
            await b.send({"duo_register_push_token": {"@token": "ExponentPushToken[bob]"}})
            assert await b.receive() == {"duo_registration_successful": None}
            await b.next_is_pong()  # the registration was handled (stored) before the pong
            await svc.db.execute("UPDATE person SET intros_notification = 1 WHERE id = $1", bob.person_id)
            await a.message(bob, "m-1", "Hi Bob, a push for you")
            assert await a.receive() == {"duo_message_delivered": {"@id": "m-1"}}
            request = await expo.next_request()
            (item,) = request.items
            assert (item["to"], item["title"], item["body"]) == (
                "ExponentPushToken[bob]", "Alice sent you a message", "Hi Bob, a push for you"
            )
            assert (await b.receive())["message"]["@id"] == "m-1"
            await b.send({"duo_register_push_token": None})  # de-registration
            assert await b.receive() == {"duo_registration_successful": None}
            await b.next_is_pong()
            assert await svc.db.fetchval("SELECT count(*) FROM duo_push_token WHERE username = $1", str(bob.uuid)) == 0


async def test_origin_and_path_are_checked_before_the_upgrade(svc: Services) -> None:
    svc.config = attrs.evolve(svc.config, chat=attrs.evolve(svc.config.chat, allowed_origins=["https://web.duolicious.app"]))
    with trio.fail_after(30):
        async with serving(svc) as chat:
            refused = ((chat.url, b"https://evil.example", 403), (chat.url + "other", b"https://web.duolicious.app", 404))
            for url, origin, status in refused:
                with pytest.raises(ConnectionRejected) as rejected:
                    async with open_websocket_url(url, subprotocols=["json"], extra_headers=[(b"Origin", origin)]):
                        pass
                assert rejected.value.status_code == status
            headers = [(b"Origin", b"https://web.duolicious.app")]
            async with open_websocket_url(chat.url, subprotocols=["json"], extra_headers=headers) as ws:
                assert ws.subprotocol == "json"


async def test_per_message_deflate_when_configured_and_offered(svc: Services) -> None:
    """A raw wsproto client offering permessage-deflate (trio-websocket's client cannot)."""
    svc.config = attrs.evolve(svc.config, chat=attrs.evolve(svc.config.chat, compression=True))
    with trio.fail_after(30):
        async with serving(svc) as chat:
            port = int(chat.url.rsplit(":", 1)[1].strip("/"))
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                client = WSConnection(ConnectionType.CLIENT)
                offer = Request(host="127.0.0.1", target="/", subprotocols=["json"], extensions=[PerMessageDeflate()])
                await stream.send_all(client.send(offer))
                accepted = await _next_event(stream, client)
                assert isinstance(accepted, AcceptConnection)
                assert accepted.subprotocol == "json"
                assert [type(e) for e in accepted.extensions] == [PerMessageDeflate]
                await stream.send_all(client.send(TextMessage(data='{"duo_ping": null}')))
                pong = await _next_event(stream, client)
                assert isinstance(pong, TextMessage)
                assert pong.data == '{"duo_pong": {"@preferred_interval": "10000", "@preferred_timeout": "5000"}}'


async def _next_event(stream: trio.SocketStream, client: WSConnection) -> Event:
    while True:
        for event in client.events():
            return event
        data = await stream.receive_some(65536)
        assert data, "the server closed the connection"
        client.receive_data(data)


async def test_an_inbox_larger_than_the_mailbox_arrives_whole(chat: Chat, people: tuple[User, User], svc: Services) -> None:
    alice, _ = people
    me = str(alice.uuid)
    others = [str(uuid.uuid4()) for _ in range(3 * MAILBOX_CAPACITY)]
    rows = [
        (me, f"{other}@duolicious.app", f"m-{n}", encode_inbox_content(ArchivedMessage(other, me, f"m-{n}", "hi")), n, 1)
        for n, other in enumerate(others)
    ]
    async with svc.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO inbox (luser, remote_bare_jid, msg_id, content, timestamp, unread_count) VALUES ($1, $2, $3, $4, $5, $6)",
            rows,
        )
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a:
            await a.send({"inbox": {"@queryid": "all"}})
            *results, fin = await a.receive_until("iq")
            assert fin == {"iq": {"@id": "all", "@type": "result", "fin": None}}
            assert [r["message"]["@id"] for r in results] == [f"m-{n}" for n in range(len(others))]


async def test_voice_message_is_transcoded_stored_and_delivered(
    chat: Chat, people: tuple[User, User], svc: Services
) -> None:
    alice, bob = people
    audio = "data:audio/wav;base64," + b64(sine("wav", "pcm_s16le", 1.0))
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a, signed_in(chat.url, bob) as b:
            voice = {"@xmlns": "jabber:client", "@type": "chat", "@to": jid(bob), "@id": "v-1", "@audio_base64": audio}
            await a.send({"message": voice})
            ack = (await a.receive())["duo_message_delivered"]
            audio_uuid = ack["@audio_uuid"]
            assert ack["@id"] == "v-1" and len(audio_uuid) == 64
            copy = (await b.receive())["message"]
            assert (copy["@audio_uuid"], copy["body"]) == (audio_uuid, AUDIO_PLACEHOLDER_BODY)
            assert await svc.db.fetchval("SELECT count(*) FROM mam_message WHERE audio_uuid = $1", audio_uuid) == 2
            # audio that does not decode is refused before anything is stored
            await a.send({"message": voice | {"@id": "v-2", "@audio_base64": "data:audio/wav;base64,AAAA"}})
            assert await a.receive() == {"duo_server_error": {"@id": "v-2"}}
